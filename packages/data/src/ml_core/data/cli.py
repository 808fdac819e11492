"""``ml-data``: make, download, check and benchmark PCAM data.

    ml-data synth --out DIR [--n-train N --n-valid N --n-test N --seed S --course-float]
    ml-data fetch --out DIR [--base-url URL] [--checksums FILE] [--retries N]
    ml-data check DIR [--json]
    ml-data bench [--samples N] [--device cpu|cuda] [--batch-size N] [--epochs N]
                  [--num-workers N] [--ranks N] [--no-train] [--json]

Exit codes: 0 done, 2 bad input or unusable data (one line per problem on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from ml_core.data.check import check_dataset, format_report
from ml_core.data.checksums import read_md5sum_file
from ml_core.data.errors import DataError
from ml_core.data.fetch import ZENODO_BASE_URL, FetchSettings, fetch_pcam
from ml_core.data.synthetic import DEFAULT_SYNTHETIC_SIZES, write_synthetic_pcam

EXIT_BAD_INPUT = 2


class _OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (exit 2), no usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _integer_at_least(minimum: int) -> Callable[[str], int]:
    """argparse type: an integer >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an integer, got {text!r}"
            ) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(
                f"expected an integer >= {minimum}, got {value}"
            )
        return value

    return parse


_positive_int = _integer_at_least(1)
_non_negative_int = _integer_at_least(0)


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """The ``ml-data`` parser with its four subcommands."""
    parser = _OneLineParser(
        prog="ml-data",
        description="Make, download, check and benchmark PCAM data.",
        add_help=add_help,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    synth = commands.add_parser("synth", help="write a synthetic PCAM directory")
    synth.add_argument("--out", type=Path, required=True, help="output directory")
    for split in ("train", "valid", "test"):
        synth.add_argument(
            f"--n-{split}",
            type=_positive_int,
            default=DEFAULT_SYNTHETIC_SIZES[split],
            help=f"{split} samples (default {DEFAULT_SYNTHETIC_SIZES[split]})",
        )
    synth.add_argument(
        "--seed", type=_non_negative_int, default=0, help="seed (default 0)"
    )
    synth.add_argument(
        "--course-float",
        action="store_true",
        help="store x as float32 with NaN and 1e5 pixels, like the course's copy",
    )

    fetch = commands.add_parser("fetch", help="download and verify the real PCAM")
    fetch.add_argument("--out", type=Path, required=True, help="output directory")
    fetch.add_argument(
        "--base-url",
        default=ZENODO_BASE_URL,
        help="file URL = BASE_URL/<name>.h5.gz (default: the Zenodo record)",
    )
    fetch.add_argument(
        "--checksums",
        type=Path,
        help="md5sum-format file ('<md5>  <name>' lines) overriding the known md5s",
    )
    fetch.add_argument(
        "--retries",
        type=_non_negative_int,
        default=5,
        help="resume attempts per file after a dropped connection (default 5)",
    )

    check = commands.add_parser("check", help="validate a PCAM directory")
    check.add_argument("data_dir", type=Path, help="directory with the six .h5 files")
    check.add_argument("--json", action="store_true", help="print the report as JSON")

    bench = commands.add_parser("bench", help="naive vs fast loader throughput")
    bench.add_argument(
        "--samples",
        "--n-samples",
        dest="n_samples",
        type=_positive_int,
        default=4096,
        help="train samples in the generated benchmark file (default 4096; real "
        "PCAM: 262144, 7.2 GB, written in chunks to a temporary directory)",
    )
    bench.add_argument(
        "--device",
        choices=("cpu", "cuda"),
        default="cpu",
        help="where batches are made model-ready and the MLP trains (default cpu)",
    )
    bench.add_argument(
        "--batch-size",
        type=_positive_int,
        default=32,
        help="samples per batch for every loader (default 32, the course's)",
    )
    bench.add_argument(
        "--ranks",
        type=_non_negative_int,
        default=None,
        help="also time a DDP training epoch with 1 and N ranks under torchrun, one "
        "device each (default: the visible GPU count with --device cuda, else 0; "
        "below 2: skipped)",
    )
    bench.add_argument(
        "--no-train",
        dest="train",
        action="store_false",
        help="time the loaders only, not the MLP training epochs",
    )
    bench.add_argument(
        "--epochs",
        type=_positive_int,
        default=3,
        help="timed epochs per loader after one warm-up; the fastest counts (default 3)",
    )
    bench.add_argument(
        "--num-workers",
        type=_non_negative_int,
        default=0,
        help="DataLoader workers for every loader (default 0)",
    )
    bench.add_argument("--json", action="store_true", help="print results as JSON")
    return parser


def _synth(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    out = write_synthetic_pcam(
        args.out,
        n_train=args.n_train,
        n_valid=args.n_valid,
        n_test=args.n_test,
        seed=args.seed,
        course_float=args.course_float,
    )
    print(
        f"wrote synthetic PCAM ({args.n_train}/{args.n_valid}/{args.n_test} samples, "
        f"seed {args.seed}) to {out} in {time.perf_counter() - started:.1f} s"
    )
    return 0


def _fetch(args: argparse.Namespace) -> int:
    checksums = read_md5sum_file(args.checksums) if args.checksums else None
    settings = FetchSettings(
        base_url=args.base_url, checksums=checksums, retries=args.retries
    )
    fetch_pcam(args.out, settings, report=print)
    print(f"PCAM ready in {args.out}")
    return 0


def _check(args: argparse.Namespace) -> int:
    if not Path(args.data_dir).is_dir():
        raise DataError(f"{args.data_dir}: data directory not found")
    report = check_dataset(args.data_dir)
    print(
        json.dumps(report.to_dict(), indent=2) if args.json else format_report(report)
    )
    for problem in report.problems:
        print(f"ml-data check: {problem}", file=sys.stderr)
    return 0 if report.ok else EXIT_BAD_INPUT


def _bench(args: argparse.Namespace) -> int:
    import torch

    from ml_core.data.bench import (
        BenchError,
        format_results,
        multi_gpu_note,
        run_benchmark,
    )

    if args.device == "cuda" and not torch.cuda.is_available():
        print("ml-data bench: --device cuda: no CUDA device here", file=sys.stderr)
        return EXIT_BAD_INPUT
    ranks = args.ranks
    if ranks is None:
        ranks = torch.cuda.device_count() if args.device == "cuda" else 0
    try:
        results = run_benchmark(
            n_samples=args.n_samples,
            epochs=args.epochs,
            num_workers=args.num_workers,
            device=args.device,
            train=args.train,
            batch_size=args.batch_size,
            ranks=ranks,
        )
    except BenchError as error:
        print(f"ml-data bench: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([result.to_dict() for result in results], indent=2))
    else:
        print(format_results(results))
        print(multi_gpu_note(args.device, results))
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "synth": _synth,
    "fetch": _fetch,
    "check": _check,
    "bench": _bench,
}


def main(argv: list[str] | None = None) -> int:
    """Run ``ml-data``; returns the exit code."""
    args = get_args_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except DataError as error:
        print(f"ml-data {args.command}: {error}", file=sys.stderr)
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        print(
            f"ml-data {args.command}: {where}{error.strerror or error}", file=sys.stderr
        )
    except KeyboardInterrupt:
        print(f"ml-data {args.command}: interrupted", file=sys.stderr)
        return 130
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())

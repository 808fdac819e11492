"""``nox -s bench`` (``python -m benchmarks.bench``): throughput of the real thing.

    python -m benchmarks.bench [--samples N] [--device cpu|cuda] [--batch-size B]
        [--epochs E] [--num-workers W] [--models mlp,...] [--ranks N]
        [--full-size [--workdir DIR]] [--json]

Tables, each measured in one run so their ratios compare like with like: the course's
naive loader against ml_core's loaders (a pass and an MLP training epoch per loader),
a row per model (parameters, train samples/s), with ``--ranks`` ml-train under
torchrun with 1 and N processes, and with ``--full-size`` PCAM's official sizes written
to disk and then ``ml-data check``, ``ml-viz eda`` and a training epoch streaming and in
RAM (wall seconds and peak RSS).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import torch

from benchmarks.commands import BenchError, distributed_rows, full_size_rows
from benchmarks.full_size_data import write_full_size_pcam
from benchmarks.loaders import loader_rows, model_rows
from ml_core.contract import EXIT_BAD_INPUT, OneLineArgumentParser, integer_at_least
from ml_core.data import write_synthetic_pcam
from ml_core.models import available_models


def get_args_parser() -> argparse.ArgumentParser:
    parser = OneLineArgumentParser(
        prog="python -m benchmarks.bench",
        description="Time ml_core's loaders, models and trainer against the course's.",
    )
    parser.add_argument(
        "--samples",
        type=integer_at_least(64),
        default=4096,
        help="train patches of the generated data (default 4096)",
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--batch-size", type=integer_at_least(1), default=32)
    parser.add_argument(
        "--epochs",
        type=integer_at_least(1),
        default=3,
        help="timed epochs after one warm-up; the fastest counts (default 3)",
    )
    parser.add_argument("--num-workers", type=integer_at_least(0), default=0)
    parser.add_argument(
        "--models",
        default="mlp",
        help="comma-separated model names for the per-model table (default mlp)",
    )
    parser.add_argument(
        "--ranks",
        type=integer_at_least(0),
        default=0,
        help="also ml-train under torchrun with 1 and N processes (below 2: skipped)",
    )
    parser.add_argument(
        "--full-size",
        action="store_true",
        help="write official PCAM sizes (262,144/32,768/32,768; ~9 GB) and time "
        "check, EDA and streaming/in-RAM training epochs",
    )
    parser.add_argument(
        "--workdir", type=Path, help="where to write the data (default: a temp dir)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON, not tables")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    models = [name for name in args.models.split(",") if name]
    unknown = sorted(set(models) - set(available_models()))
    if unknown or (args.device == "cuda" and not torch.cuda.is_available()):
        problem = (
            f"--models: unknown {', '.join(unknown)} (available: "
            f"{', '.join(available_models())})"
            if unknown
            else "--device cuda: no CUDA device here"
        )
        print(f"bench: error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    device = torch.device(args.device)
    with tempfile.TemporaryDirectory(prefix="ml-core-bench-") as temporary:
        workdir = args.workdir or Path(temporary)
        workdir.mkdir(parents=True, exist_ok=True)
        data_dir = workdir / "pcam"
        if args.full_size:
            if not (data_dir / "camelyonpatch_level_2_split_train_x.h5").exists():
                write_full_size_pcam(data_dir)
        elif not data_dir.exists():
            write_synthetic_pcam(
                data_dir, n_train=args.samples, n_valid=256, n_test=256, seed=0
            )
        try:
            report = _measure(args, models, device, data_dir, workdir)
        except BenchError as error:
            print(f"bench: error: {error}", file=sys.stderr)
            return 1
    print(json.dumps(report, indent=2) if args.json else _tables(report))
    return 0


def _measure(
    args: argparse.Namespace,
    models: list[str],
    device: torch.device,
    data_dir: Path,
    workdir: Path,
) -> dict:
    report = {
        "device": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else "cpu",
        "loaders": [
            asdict(row)
            for row in loader_rows(
                data_dir,
                batch_size=args.batch_size,
                num_workers=args.num_workers,
                epochs=1 if args.full_size else args.epochs,
                device=device,
                train=True,
            )
        ],
        "models": [
            {"model": name, "parameters": params, "samples_per_second": rate}
            for name, params, rate in model_rows(
                data_dir,
                models,
                batch_size=args.batch_size,
                epochs=1 if args.full_size else args.epochs,
                device=device,
            )
        ],
        "commands": [],
    }
    if args.ranks >= 2:
        rows = distributed_rows(
            data_dir, workdir, args.ranks, args.device, args.batch_size
        )
        report["commands"] += [asdict(row) for row in rows]
    if args.full_size:
        rows = full_size_rows(data_dir, workdir, max(args.batch_size, 256))
        report["commands"] += [asdict(row) for row in rows]
    return report


def _tables(report: dict) -> str:
    lines = [f"device: {report['device']}", ""]
    lines.append(
        f"{'loader':<46} {'task':<6} {'samples/s':>10} {'epoch s':>8} {'x naive':>8}"
    )
    lines += [
        f"{row['name']:<46} {row['task']:<6} {row['samples_per_second']:>10.0f} "
        f"{row['epoch_seconds']:>8.2f} {row['speedup']:>8.1f}"
        for row in report["loaders"]
    ]
    lines += ["", f"{'model':<12} {'parameters':>12} {'train samples/s':>16}"]
    for row in report["models"]:
        lines.append(
            f"{row['model']:<12} {row['parameters']:>12,} "
            f"{row['samples_per_second']:>16.0f}"
        )
    if report["commands"]:
        header = (
            f"{'command':<36} {'wall s':>8} {'peak RSS GB':>12} {'val AUROC':>10} "
            f"{'samples/s':>10}"
        )
        lines += ["", header]
        for row in report["commands"]:
            auroc = "" if row["val_auroc"] is None else f"{row['val_auroc']:.4f}"
            rate = (
                ""
                if row["samples_per_second"] is None
                else f"{row['samples_per_second']:.0f}"
            )
            lines.append(
                f"{row['name']:<36} {row['wall_seconds']:>8.1f} "
                f"{row['peak_rss_gb']:>12.2f} {auroc:>10} {rate:>10}"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

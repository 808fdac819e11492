"""What ``ml-data`` does once its flags are parsed (:mod:`ml_core.cli.data`)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ml_core.contract import EXIT_BAD_INPUT, EXIT_INTERRUPTED, ConfigError
from ml_core.data._check import check_dataset, format_report
from ml_core.data._errors import DataError
from ml_core.data._fetch import (
    ZENODO_BASE_URL,
    FetchSettings,
    fetch_pcam,
    read_md5sum_file,
)
from ml_core.data._synthetic import DEFAULT_SYNTHETIC_SIZES, write_synthetic_pcam


def _synth(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    sizes = {
        f"n_{split}": getattr(args, f"n_{split}") or default
        for split, default in DEFAULT_SYNTHETIC_SIZES.items()
    }
    out = write_synthetic_pcam(
        args.out, **sizes, seed=args.seed, course_float=args.course_float
    )
    print(
        f"wrote synthetic PCAM ({'/'.join(map(str, sizes.values()))} samples, "
        f"seed {args.seed}) to {out} in {time.perf_counter() - started:.1f} s"
    )
    return 0


def _fetch(args: argparse.Namespace) -> int:
    settings = FetchSettings(
        base_url=args.base_url or ZENODO_BASE_URL,
        checksums=read_md5sum_file(args.checksums) if args.checksums else None,
        retries=args.retries,
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


_COMMANDS = {"synth": _synth, "fetch": _fetch, "check": _check}


def run(args: argparse.Namespace) -> int:
    """Run the parsed ``ml-data`` command; returns the exit status."""
    try:
        return _COMMANDS[args.command](args)
    except (DataError, ConfigError) as error:
        print(f"ml-data {args.command}: {error}", file=sys.stderr)
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        print(
            f"ml-data {args.command}: {where}{error.strerror or error}", file=sys.stderr
        )
    except KeyboardInterrupt:
        print(f"ml-data {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_BAD_INPUT

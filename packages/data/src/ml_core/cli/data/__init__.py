"""``ml-data synth|fetch|check``: flags parsed before torch is imported; the work is done
by :mod:`ml_core.data._commands` (exit 0, or 2 with one line on stderr)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ml_core.contract import OneLineArgumentParser, integer_at_least

__all__ = ["get_args_parser", "main"]


def get_args_parser() -> argparse.ArgumentParser:
    """The ``ml-data`` parser with its subcommands."""
    parser = OneLineArgumentParser(
        prog="ml-data", description="Make, download and check PCAM data."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    synth = commands.add_parser("synth", help="write a synthetic PCAM directory")
    synth.add_argument("--out", type=Path, required=True, help="output directory")
    for split in ("train", "valid", "test"):
        synth.add_argument(
            f"--n-{split}",
            type=integer_at_least(1),
            help=f"{split} samples (default: the built-in synthetic PCAM's)",
        )
    synth.add_argument(
        "--seed", type=integer_at_least(0), default=0, help="seed (default 0)"
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
        help="file URL = BASE_URL/<name>.h5.gz (default: the Zenodo record)",
    )
    fetch.add_argument(
        "--checksums",
        type=Path,
        help="md5sum-format file ('<md5>  <name>' lines) overriding the known md5s",
    )
    fetch.add_argument(
        "--retries",
        type=integer_at_least(0),
        default=5,
        help="resume attempts per file after a dropped connection (default 5)",
    )

    check = commands.add_parser("check", help="validate a PCAM directory")
    check.add_argument("data_dir", type=Path, help="directory with the six .h5 files")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``ml-data``; returns the exit status."""
    args = get_args_parser().parse_args(argv)
    from ml_core.data._commands import run  # the data package imports torch

    return run(args)

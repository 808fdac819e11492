"""Command line for ml_core.viz.

    ml-viz curves RUN_DIR [RUN_DIR ...] [--out FILE]
    ml-viz curves AGGREGATE_CSV [--out FILE]
    ml-viz report RUN_DIR [--out FILE] [--figures-dir DIR]

Bad input prints one line on stderr and exits with status 2; nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ml_core.viz.curves import plot_curves
from ml_core.viz.errors import VizInputError
from ml_core.viz.report import write_report

BAD_INPUT_EXIT_CODE = 2


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """The ``ml-viz`` parser with one subcommand per kind of picture."""
    parser = argparse.ArgumentParser(
        prog="ml-viz",
        description="Learning curves, data EDA and run reports for ml_core.",
        add_help=add_help,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    curves = commands.add_parser(
        "curves",
        help="train/val loss, accuracy, F1, AUROC and learning rate per epoch",
        description="Draw learning curves from run directories (metrics.csv) or a "
        "sweep aggregate.csv. Runs whose config.yaml differ only in seed and "
        "experiment_name are drawn as mean ± std bands.",
    )
    curves.add_argument(
        "inputs",
        nargs="+",
        type=Path,
        metavar="RUN_DIR",
        help="run directories holding metrics.csv, or one sweep aggregate.csv",
    )
    curves.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="FILE",
        help="PNG to write (replaced if it exists; default: curves.png in the run "
        "directory, curves_<n>runs.png next to several runs, <csv>_curves.png "
        "next to an aggregate CSV)",
    )
    report = commands.add_parser(
        "report",
        help="one self-contained HTML page summing up a run",
        description="Write an HTML report of a run: curves, final and test metrics, "
        "confusion matrix and ROC curve (from test_predictions.csv), config and "
        "environment. Images are embedded, so the page is a single file.",
    )
    report.add_argument(
        "run_dir", type=Path, metavar="RUN_DIR", help="run directory to report on"
    )
    report.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="FILE",
        help="HTML file to write (replaced if it exists; default: RUN_DIR/report.html)",
    )
    report.add_argument(
        "--figures-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="also write the page's figures there as PNG files (for slides)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``ml-viz``; returns the exit status."""
    args = get_args_parser().parse_args(argv)
    try:
        written = _run(args)
    except VizInputError as error:
        print(f"ml-viz {args.command}: error: {error}", file=sys.stderr)
        return BAD_INPUT_EXIT_CODE
    for path in written:
        print(f"wrote {path}")
    return 0


def _run(args: argparse.Namespace) -> list[Path]:
    if args.command == "curves":
        return [plot_curves(args.inputs, args.out)]
    if args.command == "report":
        return write_report(args.run_dir, args.out, args.figures_dir)
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    sys.exit(main())

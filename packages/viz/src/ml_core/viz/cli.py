"""Command line for ml_core.viz.

    ml-viz curves RUN_DIR [RUN_DIR ...] [--out FILE]
    ml-viz curves AGGREGATE_CSV [--out FILE]
    ml-viz eda DATA_DIR [--out DIR] [--batch-size N] [--seed N] [--sampler-batches N]
               [--max-patches N] [--examples N]
    ml-viz report RUN_DIR [--out FILE] [--figures-dir DIR]

Bad input prints one line on stderr and exits with status 2; nothing is written. An
output that cannot be written prints one line and exits with status 1.
"""

from __future__ import annotations

import argparse
import errno
import sys
from pathlib import Path
from typing import NoReturn

from ml_core.viz.curves import plot_curves
from ml_core.viz.eda_options import EdaOptions
from ml_core.viz.errors import VizInputError
from ml_core.viz.report import write_report

BAD_INPUT_EXIT_CODE = 2
OS_ERROR_EXIT_CODE = 1
EDA_DEFAULTS = EdaOptions()


class OneLineArgumentParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line on stderr (exit 2), no usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """The ``ml-viz`` parser with one subcommand per kind of picture."""
    parser = OneLineArgumentParser(
        prog="ml-viz",
        description="Learning curves, data EDA and run reports for ml_core.",
        add_help=add_help,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    _add_curves_parser(commands)
    _add_eda_parser(commands)
    _add_report_parser(commands)
    return parser


def _add_curves_parser(commands: argparse._SubParsersAction) -> None:
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


def _add_report_parser(commands: argparse._SubParsersAction) -> None:
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


def _add_eda_parser(commands: argparse._SubParsersAction) -> None:
    eda = commands.add_parser(
        "eda",
        help="figures and a summary of a PCAM-format data directory",
        description="Scan a PCAM directory (official uint8, course float32 or "
        "synthetic) in chunks: intensity histograms, patch means with outliers, "
        "example patches, class balance and the balanced-sampler check. Writes one "
        "PNG per figure plus summary.json and summary.txt.",
    )
    eda.add_argument(
        "data_dir",
        type=Path,
        metavar="DATA_DIR",
        help="directory with camelyonpatch_level_2_split_*_{x,y}.h5",
    )
    eda.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output directory (files in it are replaced; default: "
        "./experiments/eda/<DATA_DIR name>)",
    )
    eda.add_argument(
        "--batch-size",
        type=int,
        default=EDA_DEFAULTS.batch_size,
        metavar="N",
        help="train batch size for the sampler check "
        f"(default {EDA_DEFAULTS.batch_size})",
    )
    eda.add_argument(
        "--seed",
        type=int,
        default=EDA_DEFAULTS.seed,
        metavar="N",
        help="seed of the train loaders used for the sampler check "
        f"(default {EDA_DEFAULTS.seed})",
    )
    eda.add_argument(
        "--sampler-batches",
        type=int,
        default=EDA_DEFAULTS.sampler_batches,
        metavar="N",
        help="real train batches to count positives in, per mode "
        f"(default {EDA_DEFAULTS.sampler_batches})",
    )
    eda.add_argument(
        "--max-patches",
        type=int,
        default=None,
        metavar="N",
        help="scan only the first N patches of each split (default: all; class "
        "counts always use every label)",
    )
    eda.add_argument(
        "--examples",
        type=int,
        default=EDA_DEFAULTS.examples_per_class,
        metavar="N",
        help="example patches per class in example_patches.png "
        f"(default {EDA_DEFAULTS.examples_per_class})",
    )


_UNWRITABLE_ERRNOS = {
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.EEXIST,
    errno.ENOTDIR,
    errno.EISDIR,
}


def main(argv: list[str] | None = None) -> int:
    """Run ``ml-viz``; returns the exit status."""
    args = get_args_parser().parse_args(argv)
    try:
        written = _run(args)
    except VizInputError as error:
        print(f"ml-viz {args.command}: error: {error}", file=sys.stderr)
        return BAD_INPUT_EXIT_CODE
    except OSError as error:
        # An output place that cannot be written is the caller's to fix (exit 2); a
        # full disk or a failing device is not (exit 1). Either way: one plain line.
        where = error.filename or args.out
        reason = (
            "it is not a directory"
            if error.errno in (errno.EEXIST, errno.ENOTDIR)
            else (error.strerror or str(error)).lower()
        )
        print(
            f"ml-viz {args.command}: error: cannot write {where}: {reason}",
            file=sys.stderr,
        )
        unwritable = error.errno in _UNWRITABLE_ERRNOS
        return BAD_INPUT_EXIT_CODE if unwritable else OS_ERROR_EXIT_CODE
    for path in written:
        print(f"wrote {path}")
    return 0


def _run(args: argparse.Namespace) -> list[Path]:
    if args.command == "curves":
        return [plot_curves(args.inputs, args.out)]
    if args.command == "eda":
        options = EdaOptions(
            batch_size=args.batch_size,
            seed=args.seed,
            sampler_batches=args.sampler_batches,
            max_patches=args.max_patches,
            examples_per_class=args.examples,
        )
        # Imported here: ml_core.data brings torch, seconds that curves/report skip.
        from ml_core.viz.eda import run_eda

        return run_eda(args.data_dir, args.out, options)
    if args.command == "report":
        return write_report(args.run_dir, args.out, args.figures_dir)
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    sys.exit(main())

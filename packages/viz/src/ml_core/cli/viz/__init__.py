"""``ml-viz`` command line, parsed before matplotlib or torch is imported (fast help)."""

from __future__ import annotations

import argparse
import errno
import sys
from dataclasses import dataclass
from pathlib import Path

from ml_core.contract import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL_ERROR,
    EXIT_OK,
    OneLineArgumentParser,
    report_error,
)

__all__ = ["EdaOptions", "get_args_parser", "main"]


@dataclass(frozen=True)
class EdaOptions:
    """How much ``ml-viz eda`` scans and how it checks the sampler; defined here, not in
    ml_core.eda, so that ``--help`` shows the defaults without importing matplotlib."""

    batch_size: int = 32
    seed: int = 0
    sampler_batches: int = 200
    max_patches: int | None = None
    examples_per_class: int = 8


# (flag, EdaOptions field, help); each takes a whole number N.
EDA_FLAGS = (
    ("--batch-size", "batch_size", "train batch size for the sampler check"),
    ("--seed", "seed", "seed of the train loaders used for the sampler check"),
    ("--sampler-batches", "sampler_batches", "real train batches counted, per mode"),
    ("--max-patches", "max_patches", "scan only the first N patches of each split"),
    ("--examples", "examples_per_class", "patches per class in example_patches.png"),
)
# An output place the caller named but cannot be written there: bad input, not a bug.
UNWRITABLE_ERRNOS = frozenset(
    {errno.EACCES, errno.EPERM, errno.EROFS, errno.EEXIST, errno.ENOTDIR, errno.EISDIR}
)


def get_args_parser() -> argparse.ArgumentParser:
    """The ``ml-viz`` parser: one subcommand per kind of picture."""
    parser = OneLineArgumentParser(
        prog="ml-viz",
        description="Learning curves, data EDA and run reports for ml_core.",
        epilog="Bad input, or an output that cannot be written there: one line on "
        f"stderr, exit {EXIT_BAD_INPUT}, nothing written.",
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
        metavar="FILE",
        help="PNG to write (replaced if it exists; default: curves.png in the run "
        "directory, curves_<n>runs.png next to several runs, <csv>_curves.png next to "
        "an aggregate CSV)",
    )
    eda = commands.add_parser(
        "eda",
        help="figures and a summary of a PCAM-format data directory",
        description="Scan a PCAM directory (official uint8, course float32 or "
        "synthetic) in chunks: intensity histograms, patch means with outliers, "
        "example patches, class balance and the balanced-sampler check. Writes one "
        "PNG per figure plus summary.json and summary.txt; class counts always use "
        "every label.",
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
        metavar="DIR",
        help="output directory (files in it are replaced; default: "
        "./experiments/eda/<DATA_DIR name>)",
    )
    defaults = EdaOptions()
    for flag, name, text in EDA_FLAGS:
        default = getattr(defaults, name)
        eda.add_argument(
            flag,
            dest=name,
            type=int,
            default=default,
            metavar="N",
            help=f"{text} (default {'all' if default is None else default})",
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
        metavar="FILE",
        help="HTML file to write (replaced if it exists; default: RUN_DIR/report.html)",
    )
    report.add_argument(
        "--figures-dir",
        type=Path,
        metavar="DIR",
        help="also write the page's figures there as PNG files (for slides)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``ml-viz``; returns the exit status."""
    args = get_args_parser().parse_args(argv)
    # Only now: matplotlib takes a second or more to import; ml_core.eda brings torch.
    from ml_core.viz import VizInputError, plot_curves, write_report

    prog = f"ml-viz {args.command}"
    try:
        if args.command == "curves":
            written = [plot_curves(args.inputs, args.out)]
        elif args.command == "report":
            written = write_report(args.run_dir, args.out, args.figures_dir)
        else:
            from ml_core.eda import run_eda

            given = {name: getattr(args, name) for _, name, _ in EDA_FLAGS}
            written = run_eda(args.data_dir, args.out, EdaOptions(**given))
    except VizInputError as error:
        report_error(prog, error)
        return EXIT_BAD_INPUT
    except OSError as error:
        # A full disk or a failing device is not the caller's to fix: exit 1.
        reason = (
            "it is not a directory"
            if error.errno in (errno.EEXIST, errno.ENOTDIR)
            else (error.strerror or str(error)).lower()
        )
        report_error(prog, f"cannot write {error.filename or args.out}: {reason}")
        return (
            EXIT_BAD_INPUT if error.errno in UNWRITABLE_ERRNOS else EXIT_INTERNAL_ERROR
        )
    sys.stdout.write("".join(f"wrote {path}\n" for path in written))
    return EXIT_OK

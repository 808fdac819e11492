"""``ml-train`` and ``ml-eval`` command lines, parsed before torch is imported (quick
``--help`` and usage errors); :mod:`ml_core.train._commands` does the work."""

from __future__ import annotations

import argparse
from pathlib import Path

from ml_core.contract import (
    DEVICE_CHOICES,
    EXIT_BAD_INPUT,
    EXIT_DIVERGED,
    EXIT_REQUEUE,
    OneLineArgumentParser,
)

__all__ = ["eval_main", "get_args_parser", "get_eval_args_parser", "train_main"]


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """The ``ml-train`` flags (``ml-slurm`` reuses them with ``add_help=False``)."""
    parser = OneLineArgumentParser(
        prog="ml-train",
        description="Train a PCAM classifier. Without arguments: the MLP on the "
        "built-in synthetic PCAM, saved under ./experiments/results/.",
        epilog=f"Exit codes: 0 done, {EXIT_BAD_INPUT} bad input, {EXIT_DIVERGED} "
        f"diverged (NaN loss; last.pt kept), {EXIT_REQUEUE} checkpointed after "
        "SIGUSR1/SIGTERM (please requeue). Under torchrun or srun with several "
        "processes it trains with DistributedDataParallel (data.batch_size is per "
        "process; rank 0 writes the run directory).",
        add_help=add_help,
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="YAML experiment config (course layout); defaults apply without it",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        dest="overrides",
        help="override one config key, value parsed as YAML "
        "(e.g. --set training.epochs=3); repeatable",
    )
    parser.add_argument(
        "--resume",
        type=Path,
        metavar="RUN_DIR",
        help="continue the run in RUN_DIR from checkpoints/last.pt, with its config",
    )
    parser.add_argument(
        "--auto-resume",
        action="store_true",
        help="resume if the configured run directory has checkpoints/last.pt, "
        "else start fresh (for Slurm requeue); needs a fixed experiment_name",
    )
    parser.add_argument(
        "--device",
        choices=DEVICE_CHOICES,
        help="compute device (default: training.device, auto = cuda > mps > cpu)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="validate the flags and config as a run would, print the resolved run as "
        "JSON (experiment_name, run_dir, resume, data_path, save_dir, config) and "
        "exit without training or writing anything",
    )
    return parser


def get_eval_args_parser() -> argparse.ArgumentParser:
    """The ``ml-eval`` flags."""
    parser = OneLineArgumentParser(
        prog="ml-eval",
        description="Evaluate a finished (or checkpointed) run on a data split: the "
        "metrics JSON on stdout (the confusion matrix on stderr), also written to "
        "RUN_DIR/eval_<split>_<checkpoint>.json.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="run directory")
    parser.add_argument(
        "--split", choices=("test", "valid"), default="test", help="(default test)"
    )
    parser.add_argument(
        "--checkpoint",
        choices=("best", "last"),
        default="best",
        help="checkpoints/best.pt or checkpoints/last.pt (default best)",
    )
    parser.add_argument(
        "--device",
        choices=DEVICE_CHOICES,
        default="auto",
        help="compute device (default auto = cuda > mps > cpu)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="write the metrics JSON here (default RUN_DIR/eval_<split>_<checkpoint>.json)",
    )
    parser.add_argument(
        "--tta",
        action="store_true",
        help="average the positive-class probability over the eight rotations and "
        "mirror images of each patch (default: the run's evaluation.tta)",
    )
    return parser


def train_main(argv: list[str] | None = None) -> int:
    """Run ``ml-train``; returns the exit status."""
    args = get_args_parser().parse_args(argv)
    from ml_core.train._commands import run_train  # torch: only once the flags are good

    return run_train(args)


def eval_main(argv: list[str] | None = None) -> int:
    """Run ``ml-eval``; returns the exit status."""
    args = get_eval_args_parser().parse_args(argv)
    from ml_core.train._commands import run_eval

    return run_eval(args)

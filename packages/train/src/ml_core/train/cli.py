"""``ml-train``: train (or continue) one experiment.

    ml-train [--config FILE] [--set key.path=value ...] [--resume RUN_DIR]
             [--auto-resume] [--device auto|cpu|cuda|mps]

    torchrun --nproc-per-node=N .venv/bin/ml-train ...   # or: srun -n N ml-train ...

Exit codes: 0 finished, 2 bad input (one line on stderr), 3 training diverged (NaN or
infinite loss; last.pt from before is kept), 75 checkpointed after SIGUSR1/SIGTERM
(requeue and run again with --resume or --auto-resume). Started by
torchrun or srun with several processes, it trains data-parallel (DDP; data.batch_size
per process) and rank 0 writes the run directory.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from ml_core.data import DataError
from ml_core.models import ModelConfigError
from ml_core.train.checkpoint import CheckpointError
from ml_core.train.config_files import ConfigError
from ml_core.train.device import DEVICE_CHOICES, DeviceUnavailableError
from ml_core.train.distributed import LaunchError
from ml_core.train.fit import TrainingDivergedError
from ml_core.train.invocation import TrainRequest
from ml_core.train.logs import setup_logger
from ml_core.train.main_job import train
from ml_core.train.run_directory import RunExistsError
from ml_core.train.stop_signals import REQUEUE_EXIT_CODE

# Not requeued by ml-slurm: rerunning repeats the same arithmetic.
DIVERGED_EXIT_CODE = 3
BAD_INPUT_ERRORS = (
    ConfigError,
    DataError,
    ModelConfigError,
    CheckpointError,
    DeviceUnavailableError,
    LaunchError,
    RunExistsError,
)


class OneLineArgumentParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line on stderr (exit 2), no usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """The ``ml-train`` flags (``ml-slurm`` reuses them with ``add_help=False``)."""
    parser = OneLineArgumentParser(
        prog="ml-train",
        description="Train a PCAM classifier. Without arguments: the MLP on the "
        "built-in synthetic PCAM, saved under ./experiments/results/.",
        epilog=f"Exit codes: 0 done, 2 bad input, {DIVERGED_EXIT_CODE} diverged (NaN "
        f"loss), {REQUEUE_EXIT_CODE} checkpointed "
        "after SIGUSR1/SIGTERM (please requeue). Under torchrun or srun with several "
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    request = TrainRequest(
        config_path=args.config,
        overrides=tuple(args.overrides),
        resume=args.resume,
        auto_resume=args.auto_resume,
        device=args.device,
    )
    setup_logger("ml_core")
    try:
        outcome = train(request)
    except BAD_INPUT_ERRORS as error:
        print(f"ml-train: error: {error}", file=sys.stderr)
        return 2
    except TrainingDivergedError as error:
        print(f"ml-train: error: {error}", file=sys.stderr)
        return DIVERGED_EXIT_CODE
    if outcome.reports:
        print(f"run directory: {outcome.run_dir}", flush=True)
    return 0 if outcome.finished else REQUEUE_EXIT_CODE


if __name__ == "__main__":
    sys.exit(main())

"""``ml-eval``: evaluate a run's checkpoint on a split; metrics JSON and confusion matrix.

    ml-eval RUN_DIR [--split test|valid] [--checkpoint best|last] [--device DEVICE]

Prints the metrics JSON on stdout (the confusion matrix as a table on stderr) and writes
it to ``RUN_DIR/eval_<split>_<checkpoint>.json``. Exit 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from torch import nn

from ml_core.data import DataError
from ml_core.models import ModelConfigError, build_model
from ml_core.train.checkpoint import CheckpointError, load_checkpoint
from ml_core.train.cli import OneLineArgumentParser
from ml_core.train.config_files import ConfigError
from ml_core.train.data_loading import split_loader
from ml_core.train.device import DEVICE_CHOICES, DeviceUnavailableError, select_device
from ml_core.train.evaluation import (
    evaluation_report,
    format_confusion_matrix,
    write_report,
)
from ml_core.train.invocation import saved_config
from ml_core.train.loop import evaluate
from ml_core.train.main_job import data_directory
from ml_core.train.run_directory import RunPaths
from ml_core.train.run_state import saved_normalization


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """The ``ml-eval`` flags."""
    parser = OneLineArgumentParser(
        prog="ml-eval",
        description="Evaluate a finished (or checkpointed) run on a data split.",
        add_help=add_help,
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="run directory")
    parser.add_argument(
        "--split",
        choices=("test", "valid"),
        default="test",
        help="split (default test)",
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    try:
        report = evaluate_run(args.run_dir, args.split, args.checkpoint, args.device)
    except (
        ConfigError,
        DataError,
        ModelConfigError,
        CheckpointError,
        DeviceUnavailableError,
    ) as error:
        print(f"ml-eval: error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2))
    print(
        "confusion matrix (rows: true label, columns: prediction)\n"
        + format_confusion_matrix(report["confusion_matrix"]),
        file=sys.stderr,
    )
    return 0


def evaluate_run(run_dir: Path, split: str, checkpoint: str, device_name: str) -> dict:
    """Evaluate ``checkpoints/<checkpoint>.pt`` of ``run_dir`` on ``split``."""
    paths = RunPaths(run_dir)
    config = saved_config(run_dir)
    record = load_checkpoint(paths.checkpoints / f"{checkpoint}.pt")
    device = select_device(device_name)
    data_dir = data_directory(config)
    loader = split_loader(config, config.data_loader_config(data_dir), split, device)
    model = build_model(config.model_options(), config.data.input_shape)
    model.load_state_dict(record["model"])
    accumulator = evaluate(
        model.to(device),
        nn.CrossEntropyLoss(),
        loader,
        device=device,
        bf16=config.training.bf16,
        normalization=saved_normalization(record),
    )
    report = evaluation_report(split, checkpoint, accumulator)
    write_report(paths.root / f"eval_{split}_{checkpoint}.json", report)
    return report


if __name__ == "__main__":
    sys.exit(main())

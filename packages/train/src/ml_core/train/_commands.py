"""What ``ml-train`` and ``ml-eval`` do once :mod:`ml_core.cli.train` has parsed the
flags: the library's exceptions become one-line messages and exit statuses."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ml_core.contract import (
    EXIT_BAD_INPUT,
    EXIT_DIVERGED,
    EXIT_INTERNAL_ERROR,
    EXIT_INTERRUPTED,
    EXIT_REQUEUE,
    ConfigError,
    report_error,
    write_json_atomic,
)
from ml_core.data import DataError
from ml_core.models import ModelConfigError
from ml_core.train._checkpoint import DISK_FULL_ERRNOS, CheckpointError, DiskFullError
from ml_core.train._device import DeviceUnavailableError
from ml_core.train._distributed import LaunchError
from ml_core.train._evaluation import evaluate_run, format_confusion_matrix
from ml_core.train._experiment import train
from ml_core.train._fit import TrainingDivergedError
from ml_core.train._progress import setup_logger
from ml_core.train._request import ResolvedRun, RunRequest, resolve_run
from ml_core.train._run_directory import RunExistsError

BAD_INPUT_ERRORS = (
    ConfigError,
    DataError,
    ModelConfigError,
    CheckpointError,
    DeviceUnavailableError,
    LaunchError,
    RunExistsError,
)


def run_train(args: argparse.Namespace) -> int:
    """Train as the parsed ``ml-train`` flags say; the exit status."""
    request = RunRequest(
        config_path=args.config,
        overrides=tuple(args.overrides),
        resume=args.resume,
        auto_resume=args.auto_resume,
        device=args.device,
    )
    try:
        if args.check:
            print(json.dumps(_check_summary(resolve_run(request))))
            return 0
        setup_logger("ml_core")
        outcome = train(request)
    except BAD_INPUT_ERRORS as error:
        report_error("ml-train", error)
        return EXIT_BAD_INPUT
    except TrainingDivergedError as error:
        report_error("ml-train", error)
        return EXIT_DIVERGED
    except OSError as error:
        if error.errno not in DISK_FULL_ERRNOS:
            raise
        place = (
            error.strerror
            if isinstance(error, DiskFullError)
            else f"disk full at {error.filename}"
        )
        report_error(
            "ml-train",
            f"{place}; the files written before are intact (checkpoints/last.pt "
            "resumes once there is space)",
        )
        return EXIT_INTERNAL_ERROR
    except KeyboardInterrupt:
        report_error(
            "ml-train",
            "interrupted twice: stopped without a checkpoint of "
            "this step; checkpoints/last.pt from before is kept",
        )
        return EXIT_INTERRUPTED
    if outcome.reports:
        print(f"run directory: {outcome.run_dir}", flush=True)
    if outcome.finished:
        return 0
    return EXIT_INTERRUPTED if outcome.stopped_by == "SIGINT" else EXIT_REQUEUE


def _check_summary(resolved: ResolvedRun) -> dict[str, Any]:
    """What ``--check`` prints: the resolved run, paths absolute."""
    config = resolved.config
    data_path = config.data.data_path
    return {
        "experiment_name": config.experiment_name,
        "run_dir": str(config.run_dir.resolve()),
        "resume": resolved.resume_dir is not None,
        "data_path": str(Path(data_path).resolve()) if data_path else None,
        "save_dir": str(Path(config.training.save_dir).resolve()),
        "config": config.to_dict(),
    }


def run_eval(args: argparse.Namespace) -> int:
    """Evaluate as the parsed ``ml-eval`` flags say; the exit status."""
    try:
        report = evaluate_run(
            args.run_dir, args.split, args.checkpoint, args.device, tta=args.tta
        )
    except BAD_INPUT_ERRORS as error:
        report_error("ml-eval", error)
        return EXIT_BAD_INPUT
    print(json.dumps(report, indent=2))
    print(
        "confusion matrix (rows: true label, columns: prediction)\n"
        + format_confusion_matrix(report["confusion_matrix"]),
        file=sys.stderr,
    )
    target = (
        args.out or Path(args.run_dir) / f"eval_{args.split}_{args.checkpoint}.json"
    )
    try:
        write_json_atomic(target, report)
    except OSError as error:
        # The metrics are printed above: a read-only run directory loses nothing.
        report_error(
            "ml-eval",
            f"could not write {target}: {(error.strerror or str(error)).lower()}; "
            "the metrics are on stdout (--out FILE writes them elsewhere)",
        )
        return EXIT_INTERNAL_ERROR if error.errno in DISK_FULL_ERRNOS else 0
    return 0

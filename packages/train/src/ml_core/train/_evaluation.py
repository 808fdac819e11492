"""Checkpoint evaluation and its outputs, for the end of training and ``ml-eval``."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ml_core.contract import RunPaths, write_text_atomic
from ml_core.data import make_split_loader
from ml_core.models import build_model
from ml_core.train._checkpoint import load_checkpoint
from ml_core.train._config import ExperimentConfig
from ml_core.train._device import select_device
from ml_core.train._loop import evaluate
from ml_core.train._metrics import (
    DECISION_THRESHOLD,
    EpochAccumulator,
    confusion_matrix,
)
from ml_core.train._request import config_changes, saved_config
from ml_core.train._run_state import saved_normalization, uses_convolutions
from ml_core.train._stop_signals import StopFlag


def evaluation_report(
    split: str, checkpoint: str, accumulator: EpochAccumulator, *, tta: bool = False
) -> dict[str, Any]:
    """Metrics of one evaluation pass, ``test_metrics.json`` layout (NaN as None)."""
    metrics = accumulator.compute()
    report = {
        "split": split,
        "checkpoint": checkpoint,
        "tta": tta,
        "num_samples": accumulator.count,
        "loss": metrics["loss"],
        "accuracy": metrics["acc"],
        "f1": metrics["f1"],
        "auroc": metrics["auroc"],
        "confusion_matrix": confusion_matrix(accumulator.probs, accumulator.labels),
    }
    # NaN is not valid JSON.
    return {
        key: None if isinstance(value, float) and math.isnan(value) else value
        for key, value in report.items()
    }


def write_predictions(path: Path, accumulator: EpochAccumulator) -> None:
    """``index,label,prob_positive,prediction`` per sample, in loader order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["index", "label", "prob_positive", "prediction"])
    labels, probs = accumulator.labels.tolist(), accumulator.probs.tolist()
    for index, (label, prob) in enumerate(zip(labels, probs, strict=True)):
        writer.writerow([index, label, repr(prob), int(prob >= DECISION_THRESHOLD)])
    write_text_atomic(path, buffer.getvalue())


def format_confusion_matrix(matrix: list[list[int]]) -> str:
    """A small text table: rows are true labels, columns predictions."""
    (tn, fp), (fn, tp) = matrix
    width = max(len(str(value)) for value in (tn, fp, fn, tp, "pred 0"))
    lines = [
        f"{'':>8} {'pred 0':>{width}} {'pred 1':>{width}}",
        f"{'true 0':>8} {tn:>{width}} {fp:>{width}}",
        f"{'true 1':>8} {fn:>{width}} {tp:>{width}}",
    ]
    return "\n".join(lines)


def evaluate_run(
    run_dir: Path, split: str, checkpoint: str, device_name: str, *, tta: bool = False
) -> dict:
    """Evaluate ``checkpoints/<checkpoint>.pt`` of ``run_dir`` on ``split`` (``tta``:
    average the eight symmetric views, also when the run's config does not)."""
    paths = RunPaths(run_dir)
    config = saved_config(run_dir)
    record = load_checkpoint(
        paths.checkpoints / f"{checkpoint}.pt", ("model", "config")
    )
    config_changes(
        record["config"],
        config.to_dict(),
        paths.config,
        "restore config.yaml to evaluate it",
        refused=("model",),
    )
    device = select_device(device_name)
    model = build_model(config.model_options(weights=False), config.data.input_shape)
    tta = tta or config.evaluation.tta
    accumulator = evaluate_checkpoint(model, record, config, split, device, tta=tta)
    return evaluation_report(split, checkpoint, accumulator, tta=tta)


def evaluate_checkpoint(
    model: nn.Module,
    record: dict[str, Any],
    config: ExperimentConfig,
    split: str,
    device: torch.device,
    *,
    tta: bool,
    stop: StopFlag | None = None,
) -> EpochAccumulator:
    """``model`` with the checkpoint ``record``'s weights, on ``split`` of the data."""
    model.load_state_dict(record["model"])
    channels_last = uses_convolutions(model)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return evaluate(
        model.to(device),
        nn.CrossEntropyLoss(),
        make_split_loader(config.data, split, device=device),
        device=device,
        bf16=config.training.bf16,
        normalization=saved_normalization(record),
        channels_last=channels_last,
        tta=tta,
        stop=stop,
    )

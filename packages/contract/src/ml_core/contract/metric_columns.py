"""The columns of ``metrics.csv`` (one row per epoch) and ``validation.csv`` (one row per
validation pass), in file order. Every cell is a number except ``warning`` (text, empty
when the pass looks healthy)."""

from __future__ import annotations

VALIDATION_METRICS = (
    "val_loss",
    "val_acc",
    "val_f1",
    "val_auroc",
    "val_prob_std",
    "val_dead_units",
)
METRIC_COLUMNS = (
    "epoch",
    "train_loss",
    "train_acc",
    "train_f1",
    "train_auroc",
    *VALIDATION_METRICS,
    "lr",
    "epoch_seconds",
    "samples_per_second",
    "warning",
)
VALIDATION_COLUMNS = ("epoch", "step", *VALIDATION_METRICS, "warning")
# Wall-clock columns: the only ones that differ between runs of one config.
TIMING_COLUMNS = ("epoch_seconds", "samples_per_second")
TEXT_COLUMNS = ("warning",)
# What a sweep aggregates and a plot draws: every per-epoch number but the timing.
NUMERIC_METRICS = tuple(
    name
    for name in METRIC_COLUMNS
    if name not in ("epoch", *TIMING_COLUMNS, *TEXT_COLUMNS)
)

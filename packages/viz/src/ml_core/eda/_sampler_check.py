"""Positives per train batch with and without balanced sampling: expected from the
class counts, measured in real batches of ``ml_core.data``'s loaders."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np

from ml_core.cli.viz import EdaOptions
from ml_core.data import get_dataloaders

# The two ways the course draws train batches (summary.json's names) -> data.balance.
MODES = {"without_sampler": False, "with_sampler": True}


@dataclass(frozen=True)
class SamplerMeasurement:
    """Mean positives per full-size batch over ``batches`` real batches, and its SEM."""

    mean: float
    standard_error: float
    batches: int


@dataclass(frozen=True)
class SamplerCheck:
    """The check as summary.json holds it; positives per batch by mode (see MODES)."""

    split: str
    seed: int
    batch_size: int
    class_counts: tuple[int, int]
    expected_positives_per_batch: dict[str, float]
    measured_positives_per_batch: dict[str, SamplerMeasurement]


def check_sampler(
    data_dir: Path, class_counts: np.ndarray, options: EdaOptions
) -> SamplerCheck:
    """Expected and measured (``options.sampler_batches``) positives for each mode."""
    batch_size = options.batch_size
    counts = np.asarray(class_counts, dtype=np.float64)
    # The balanced sampler weighs each sample 1 / count(its class); unbalanced, all 1.
    inverse = np.divide(1.0, counts, out=np.zeros_like(counts), where=counts > 0)
    expected, measured = {}, {}
    for mode, balance in MODES.items():
        weights = inverse if balance else np.ones_like(counts)
        expected[mode] = batch_size * counts[1] * weights[1] / (counts * weights).sum()
        measured[mode] = _measure(data_dir, options, balance)
    normal_tumour = (int(class_counts[0]), int(class_counts[1]))
    return SamplerCheck(
        "train", options.seed, batch_size, normal_tumour, expected, measured
    )


def _measure(data_dir: Path, options: EdaOptions, balance: bool) -> SamplerMeasurement:
    config = {
        "seed": options.seed,
        "data": {
            "data_path": str(data_dir),
            "batch_size": options.batch_size,
            "num_workers": 0,
            "balance": balance,
            "uint8_batches": True,  # labels are all we need: skip the float conversion
        },
    }
    train_loader, _ = get_dataloaders(config)
    fractions = [
        float(np.asarray(labels).mean())
        for _, labels in islice(train_loader, options.sampler_batches)
    ]
    values = np.asarray(fractions) * options.batch_size
    sem = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
    return SamplerMeasurement(float(values.mean()), float(sem), len(values))

"""Positives per train batch with and without balanced sampling: expected and measured.

Expected from the class counts; measured in real batches of ``ml_core.data``'s loaders.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np

from ml_core.data import DataError, get_dataloaders
from ml_core.viz import VizInputError

# The two ways the course draws train batches, as named in figures and summary.json.
MODES = {"without": False, "with": True}  # mode -> the config's data.balance


@dataclass(frozen=True)
class SamplerMeasurement:
    """Mean positives per full-size batch over ``batches`` real batches, and its SEM."""

    mean: float
    standard_error: float
    batches: int


@dataclass(frozen=True)
class SamplerCheck:
    """Expected and measured positives per batch, by mode (see MODES)."""

    batch_size: int
    class_counts: tuple[int, int]
    expected: dict[str, float]
    measured: dict[str, SamplerMeasurement]


def check_sampler(
    data_dir: Path, class_counts: np.ndarray, batch_size: int, seed: int, batches: int
) -> SamplerCheck:
    """Expected and measured (first ``batches`` batches) positives for each mode."""
    return SamplerCheck(
        batch_size,
        (int(class_counts[0]), int(class_counts[1])),
        {
            mode: expected_positives(class_counts, batch_size, balance)
            for mode, balance in MODES.items()
        },
        {
            mode: _measure(data_dir, batch_size, seed, balance, batches)
            for mode, balance in MODES.items()
        },
    )


def expected_positives(
    class_counts: np.ndarray, batch_size: int, balance: bool
) -> float:
    """Expected positives in a batch drawn from a train split with ``class_counts``.

    Without balancing every sample is equally likely: ``B * n1 / N``. With the
    WeightedRandomSampler each sample weighs ``1 / count(its class)``, so
    ``P(positive) = n1 * (1/n1) / sum_c n_c * (1/n_c)`` = 1/2 for two present classes.
    """
    counts = np.asarray(class_counts, dtype=np.float64)
    if not balance:
        return batch_size * counts[1] / counts.sum()
    weights = np.divide(1.0, counts, out=np.zeros_like(counts), where=counts > 0)
    return batch_size * counts[1] * weights[1] / (counts * weights).sum()


def _measure(
    data_dir: Path, batch_size: int, seed: int, balance: bool, batches: int
) -> SamplerMeasurement:
    config = {
        "seed": seed,
        "data": {
            "data_path": str(data_dir),
            "batch_size": batch_size,
            "num_workers": 0,
            "balance": balance,
            "uint8_batches": True,  # labels are all we need: skip the float conversion
        },
    }
    try:
        train_loader, _ = get_dataloaders(config)
        fractions = [
            float(np.asarray(labels).mean())
            for _, labels in islice(train_loader, batches)
        ]
    except DataError as error:
        raise VizInputError(str(error)) from None
    values = np.asarray(fractions) * batch_size
    sem = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
    return SamplerMeasurement(float(values.mean()), float(sem), len(values))

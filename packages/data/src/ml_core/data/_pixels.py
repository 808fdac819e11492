"""Pixel clean-up with the course's semantics, blackout/washout detection, channel stats.

Course order: NaN -> 0, then clip to [0, 255], then cast to uint8.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ml_core.data._h5files import H5Images, SplitFiles
from ml_core.data._layout import split_paths


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Images of any numeric dtype as uint8: NaN -> 0, clip to [0, 255], cast."""
    if images.dtype == np.uint8:
        return images
    if np.issubdtype(images.dtype, np.floating):
        cleaned = np.nan_to_num(images, nan=0.0, posinf=255.0, neginf=0.0)
        return np.clip(cleaned, 0, 255, out=cleaned).astype(np.uint8)
    return np.clip(images, 0, 255).astype(np.uint8)


def blackout_washout(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-image masks of blackout (mean 0) and washout (mean 255) uint8 patches: on
    uint8 that is max == 0 and min == 255, no float mean needed."""
    flat = images.reshape(len(images), -1)
    return flat.max(axis=1) == 0, flat.min(axis=1) == 255


STATISTICS_RUNS = 64
STATISTICS_RUN_LENGTH = 64
_ROWS_PER_READ = 512  # 14 MB of uint8 patches at a time
# Offsets that put the three channels' values in one 768-bin histogram.
_CHANNEL_OFFSETS = np.array([0, 256, 512], dtype=np.uint16)


def split_channel_statistics(
    data_dir: Path | str, split: str = "train"
) -> tuple[list[float], list[float]]:
    """Per-channel (mean, std) in [0, 1] of ``split``'s pixels, from up to 4,096 patches.

    Runs of 64 consecutive rows at 64 evenly spaced places keep the reads contiguous
    while covering the whole file (which may be sorted); each row counts once. The
    moments come from exact per-channel histograms of the uint8 values.
    """
    files = SplitFiles.open(*split_paths(data_dir, split))
    num_samples, images = files.num_samples, H5Images(files.x_path)
    length = min(STATISTICS_RUN_LENGTH, num_samples)
    starts = np.linspace(0, num_samples - length, min(STATISTICS_RUNS, num_samples))
    rows = np.unique(starts.astype(np.int64)[:, None] + np.arange(length))
    counts = np.zeros(768, dtype=np.int64)
    try:
        for first in range(0, len(rows), _ROWS_PER_READ):
            pixels = to_uint8(images.read_many(rows[first : first + _ROWS_PER_READ]))
            counts += np.bincount((pixels + _CHANNEL_OFFSETS).ravel(), minlength=768)
    finally:
        images.close()
    histograms = counts.reshape(3, 256)
    levels = np.arange(256) / 255
    pixels_per_channel = histograms.sum(axis=1)
    mean = histograms @ levels / pixels_per_channel
    deviations = np.square(levels[None, :] - mean[:, None])
    std = np.sqrt((histograms * deviations).sum(axis=1) / pixels_per_channel)
    # A constant channel (a test file) would divide by zero.
    std = np.maximum(std, 1e-3)
    return mean.tolist(), std.tolist()

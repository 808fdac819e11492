"""Pixel clean-up with the course's semantics, and blackout/washout detection.

Course order: NaN -> 0, then clip to [0, 255], then cast to uint8.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Images of any numeric dtype as uint8: NaN -> 0, clip to [0, 255], cast."""
    if images.dtype == np.uint8:
        return images
    if np.issubdtype(images.dtype, np.floating):
        cleaned = np.nan_to_num(images, nan=0.0, posinf=255.0, neginf=0.0)
        return np.clip(cleaned, 0, 255, out=cleaned).astype(np.uint8)
    return np.clip(images, 0, 255).astype(np.uint8)


def blackout_washout(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-image masks of blackout (mean 0) and washout (mean 255) patches.

    ``images`` is a uint8 batch (N, H, W, C); on uint8 a mean of 0 means every pixel is 0,
    so max/min over each image answer the question without a float mean.
    """
    flat = images.reshape(len(images), -1)
    return flat.max(axis=1) == 0, flat.min(axis=1) == 255


STATISTICS_RUNS = 64
STATISTICS_RUN_LENGTH = 64


def channel_statistics(
    images: Any, num_samples: int
) -> tuple[list[float], list[float]]:
    """Per-channel (mean, std) of the pixels in [0, 1], from up to 4,096 patches.

    ``images`` is an :class:`~ml_core.data._image_reader.H5Images`-like reader with
    ``read_slice(start, stop)``; runs of 64 consecutive rows at 64 evenly spaced places
    keep the reads contiguous while covering the whole file (which may be sorted).
    """
    length = min(STATISTICS_RUN_LENGTH, num_samples)
    starts = np.linspace(0, num_samples - length, min(STATISTICS_RUNS, num_samples))
    total = np.zeros(3)
    squares = np.zeros(3)
    count = 0
    for start in sorted({int(value) for value in starts}):
        pixels = to_uint8(images.read_slice(start, start + length)).reshape(-1, 3)
        values = pixels.astype(np.float64) / 255
        total += values.sum(axis=0)
        squares += np.square(values).sum(axis=0)
        count += len(values)
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - np.square(mean), 0.0))
    # A constant channel (a test file) would divide by zero.
    std = np.maximum(std, 1e-3)
    return mean.tolist(), std.tolist()

"""Pixel clean-up with the course's semantics, and blackout/washout detection.

Course order: NaN -> 0, then clip to [0, 255], then cast to uint8.
"""

from __future__ import annotations

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

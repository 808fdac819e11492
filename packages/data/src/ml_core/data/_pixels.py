"""What the pixels hold: the course's clean-up (NaN -> 0, clip to [0, 255], uint8),
blackout/washout outliers and per-channel statistics.

Outlier masks are cached under :func:`cache_dir` keyed by the file's content
fingerprint, never next to the data: data directories are often read-only shared copies.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ml_core.contract import atomic_output
from ml_core.data._cache import cache_dir, file_fingerprint
from ml_core.data._errors import DataError
from ml_core.data._h5files import H5Images, SplitFiles, image_chunks
from ml_core.data._layout import split_paths

logger = logging.getLogger(__name__)

# Bump when the outlier definition changes, so stale cached masks are not reused.
_MASK_VERSION = 1
STATISTICS_RUNS = 64
STATISTICS_RUN_LENGTH = 64
_ROWS_PER_READ = 512  # 14 MB of uint8 patches at a time
# Offsets that put the three channels' values in one 768-bin histogram.
_CHANNEL_OFFSETS = np.array([0, 256, 512], dtype=np.uint16)


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


def outlier_masks(x_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(blackout, washout) boolean masks of every image in ``x_path``, scanned in chunks."""
    chunks = [blackout_washout(to_uint8(rows)) for rows in image_chunks(x_path)]
    blackouts, washouts = zip(*chunks, strict=True)
    return np.concatenate(blackouts), np.concatenate(washouts)


def mask_cache_path(x_path: Path) -> Path:
    """Where the keep-mask of ``x_path`` is cached."""
    name = f"keep-v{_MASK_VERSION}-{file_fingerprint(x_path)}.npy"
    return cache_dir() / "filter-masks" / name


def kept_rows(split: SplitFiles, filter_data: bool) -> np.ndarray:
    """The file rows a loader serves: all of them, or those ``filter_data`` keeps (the
    images that are neither blackout nor washout; the mask is cached)."""
    if not filter_data:
        return np.arange(split.num_samples, dtype=np.int64)
    cached = mask_cache_path(split.x_path)
    if cached.is_file():
        keep = np.load(cached, allow_pickle=False)
    else:
        blackout, washout = outlier_masks(split.x_path)
        keep = ~(blackout | washout)
        try:
            with atomic_output(cached) as temp_path, temp_path.open("wb") as stream:
                np.save(stream, keep, allow_pickle=False)
        except OSError as error:
            # A read-only cache costs a rescan next time, not a failed run.
            logger.warning("cannot cache filter mask at %s: %s", cached, error.strerror)
    if not keep.any():
        raise DataError(
            f"{split.x_path}: every image is blackout or washout, "
            "nothing left after filter_data"
        )
    return np.flatnonzero(keep)


def split_channel_statistics(
    data_dir: Path | str, split: str = "train"
) -> tuple[list[float], list[float]]:
    """Per-channel (mean, std) in [0, 1] of ``split``'s pixels, from exact histograms of
    up to 64 runs of 64 rows spread over the file (contiguous reads, sorted files too)."""
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

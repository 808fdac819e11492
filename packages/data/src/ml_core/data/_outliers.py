"""Blackout/washout masks over a whole image file, computed in chunks and cached.

The cache lives under :func:`cache_dir` keyed by the file's content fingerprint, never
next to the data: data directories are often read-only shared copies.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ml_core.contract import atomic_output
from ml_core.data._cache import cache_dir, file_fingerprint
from ml_core.data._errors import DataError
from ml_core.data._h5files import SplitFiles, image_chunks
from ml_core.data._pixels import blackout_washout, to_uint8

logger = logging.getLogger(__name__)

# Bump when the outlier definition changes, so stale cached masks are not reused.
_MASK_VERSION = 1


def outlier_masks(x_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(blackout, washout) boolean masks of every image in ``x_path``, scanned in chunks."""
    chunks = [blackout_washout(to_uint8(rows)) for rows in image_chunks(x_path)]
    blackouts, washouts = zip(*chunks, strict=True)
    return np.concatenate(blackouts), np.concatenate(washouts)


def mask_cache_path(x_path: Path) -> Path:
    """Where the keep-mask of ``x_path`` is cached."""
    name = f"keep-v{_MASK_VERSION}-{file_fingerprint(x_path)}.npy"
    return cache_dir() / "filter-masks" / name


def kept_indices(x_path: Path) -> np.ndarray:
    """Indices of the images that are neither blackout nor washout (cached)."""
    cached = mask_cache_path(x_path)
    if cached.is_file():
        return np.flatnonzero(np.load(cached, allow_pickle=False))
    blackout, washout = outlier_masks(x_path)
    keep = ~(blackout | washout)
    try:
        with atomic_output(cached) as temp_path, temp_path.open("wb") as stream:
            np.save(stream, keep, allow_pickle=False)
    except OSError as error:
        # A read-only cache costs a rescan next time, not a failed run.
        logger.warning("cannot cache filter mask at %s: %s", cached, error.strerror)
    return np.flatnonzero(keep)


def kept_rows(split: SplitFiles, filter_data: bool) -> np.ndarray:
    """The file rows a loader serves: all of them, or those ``filter_data`` keeps."""
    if not filter_data:
        return np.arange(split.num_samples, dtype=np.int64)
    kept = kept_indices(split.x_path)
    if len(kept) == 0:
        raise DataError(
            f"{split.x_path}: every image is blackout or washout, "
            "nothing left after filter_data"
        )
    return kept

"""Per-split pixel and patch statistics, accumulated chunk by chunk (constant memory).

Pixels are cleaned with the course's semantics (NaN -> 0, clip to [0, 255], uint8), so
"all-0" / "all-255" match the blackout / washout patches ``filter_data`` removes; NaN
and > 255 are counted on the values as stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ml_core.viz.pcam_files import SplitFiles, iter_patch_chunks

CHUNK_PATCHES = 512
NUM_CLASSES = 2
NUM_CHANNELS = 3
LEVELS = 256
MEAN_BIN_EDGES = np.linspace(0.0, 255.0, 86)  # 3-level-wide bins of the patch mean
OUTLIER_KINDS = ("nan", "over_255", "all_0", "all_255")


@dataclass
class SplitStats:
    """What one split's scan found; histograms count pixels / patches per class."""

    split: str
    dtype: str
    total_patches: int
    scanned_patches: int
    class_counts: np.ndarray
    pixel_histograms: np.ndarray = field(
        default_factory=lambda: np.zeros((NUM_CLASSES, NUM_CHANNELS, LEVELS), np.int64)
    )
    mean_histograms: np.ndarray = field(
        default_factory=lambda: np.zeros(
            (NUM_CLASSES, len(MEAN_BIN_EDGES) - 1), np.int64
        )
    )
    outliers: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(OUTLIER_KINDS, 0)
    )


def clean_to_uint8(patches: np.ndarray) -> np.ndarray:
    """Course cleaning: NaN -> 0, clip to [0, 255], cast to uint8 (truncating)."""
    if patches.dtype == np.uint8:
        return patches
    # fmax/fmin return the non-NaN operand: NaN -> 0 and the clip in two passes.
    cleaned = np.fmax(patches, 0)
    return np.fmin(cleaned, 255, out=cleaned).astype(np.uint8)


def scan_split(split: SplitFiles, max_patches: int | None = None) -> SplitStats:
    """Scan the first ``max_patches`` (default all) patches of ``split`` in chunks."""
    limit = (
        split.num_patches
        if max_patches is None
        else min(max_patches, split.num_patches)
    )
    stats = SplitStats(
        split=split.split,
        dtype=str(split.dtype),
        total_patches=split.num_patches,
        scanned_patches=limit,
        class_counts=np.bincount(split.labels, minlength=NUM_CLASSES),
    )
    for start, raw in iter_patch_chunks(split, CHUNK_PATCHES, limit):
        _add_chunk(stats, raw, split.labels[start : start + len(raw)])
    return stats


def outlier_flags(raw: np.ndarray, cleaned: np.ndarray) -> dict[str, np.ndarray]:
    """Per-patch booleans for each of OUTLIER_KINDS (``cleaned``: ``raw``, cleaned)."""
    flat_raw = raw.reshape(len(raw), -1)
    cleaned = cleaned.reshape(len(raw), -1)
    if raw.dtype.kind == "f":
        nan = np.isnan(flat_raw).any(axis=1)
        over = (flat_raw > 255).any(axis=1)
    else:
        nan = over = np.zeros(len(raw), dtype=bool)
    return {
        "nan": nan,
        "over_255": over,
        "all_0": cleaned.max(axis=1) == 0,
        "all_255": cleaned.min(axis=1) == 255,
    }


def _add_chunk(stats: SplitStats, raw: np.ndarray, labels: np.ndarray) -> None:
    cleaned = clean_to_uint8(raw)
    flags = outlier_flags(raw, cleaned)
    for kind, flagged in flags.items():
        stats.outliers[kind] += int(flagged.sum())
    means = cleaned.reshape(len(raw), -1).mean(axis=1)
    usable = ~np.logical_or.reduce(list(flags.values()))
    for label in range(NUM_CLASSES):
        of_class = labels == label
        stats.mean_histograms[label] += np.histogram(
            means[of_class], bins=MEAN_BIN_EDGES
        )[0]
        stats.pixel_histograms[label] += _channel_histograms(cleaned[of_class & usable])


def _channel_histograms(patches: np.ndarray) -> np.ndarray:
    # One bincount for all channels: channel c's level v lands in bin c * 256 + v.
    offsets = np.arange(NUM_CHANNELS, dtype=np.uint16) * LEVELS
    indices = patches.astype(np.uint16) + offsets
    counts = np.bincount(indices.ravel(), minlength=NUM_CHANNELS * LEVELS)
    return counts.reshape(NUM_CHANNELS, LEVELS)

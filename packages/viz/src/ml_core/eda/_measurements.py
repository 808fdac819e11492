"""What the EDA measures in a PCAM-format directory: a chunk-by-chunk scan (constant
memory) of official uint8 files, the course's float32 copy and synthetic PCAM alike, and
the positives per train batch with and without balanced sampling, expected from the
class counts and measured in real batches of ``ml_core.data``'s loaders."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np

from ml_core.cli.viz import EdaOptions
from ml_core.data import (
    SPLITS,
    SplitFiles,
    blackout_washout,
    get_dataloaders,
    has_split,
    image_chunks,
    split_paths,
    to_uint8,
)
from ml_core.viz import VizInputError

# The sampler check builds train and validation loaders, so both must be there.
REQUIRED_SPLITS = ("train", "valid")
# Examples are looked for no further: PCAM is shuffled, so both classes show early.
EXAMPLE_SEARCH_PATCHES = 4096
NUM_CLASSES = 2
NUM_CHANNELS = 3
LEVELS = 256
MEAN_BIN_EDGES = np.linspace(0.0, 255.0, 86)  # 3-level-wide bins of the patch mean
# Outlier kinds (keys of summary.json) and how figures and summary.txt name them.
OUTLIER_NAMES = {
    "nan": "NaN",
    "over_255": "> 255",
    "all_0": "all-0",
    "all_255": "all-255",
}
# The two ways the course draws train batches (summary.json's names) -> data.balance.
MODES = {"without_sampler": False, "with_sampler": True}


@dataclass(frozen=True)
class SplitStats:
    """What one split's scan found, in summary.json's order and names; histograms count
    pixels / patches per class."""

    dtype: str
    total_patches: int
    scanned_patches: int
    class_counts: np.ndarray
    positive_fraction: float
    outliers: dict[str, int]
    pixel_histograms: np.ndarray  # [class][channel][level]
    patch_mean_histograms: np.ndarray  # [class][MEAN_BIN_EDGES bin]


@dataclass(frozen=True)
class PatchExamples:
    """A few clean patches (uint8, HWC) per class and their indices in the split."""

    indices: dict[int, list[int]]
    patches: dict[int, list[np.ndarray]]


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


def open_pcam_splits(data_dir: Path) -> dict[str, SplitFiles]:
    """Every split present in ``data_dir``; VizInputError if it is not PCAM, DataError
    for a bad file."""
    if not data_dir.is_dir():
        raise VizInputError(f"{data_dir}: no such directory")
    present = [split for split in SPLITS if has_split(data_dir, split)]
    missing = [split for split in REQUIRED_SPLITS if split not in present]
    if missing:
        names = ", ".join(path.name for path in split_paths(data_dir, missing[0]))
        raise VizInputError(
            f"{data_dir}: not a PCAM directory (missing {missing[0]} split: {names})"
        )
    return {split: SplitFiles.open(*split_paths(data_dir, split)) for split in present}


def scan_split(files: SplitFiles, max_patches: int | None = None) -> SplitStats:
    """Histograms and outlier counts of the first ``max_patches`` (default all)."""
    counts = np.bincount(files.labels, minlength=NUM_CLASSES)
    stats = SplitStats(
        dtype=str(files.image_dtype),
        total_patches=files.num_samples,
        scanned_patches=min(max_patches or files.num_samples, files.num_samples),
        class_counts=counts,
        positive_fraction=float(counts[1] / counts.sum()),
        outliers=dict.fromkeys(OUTLIER_NAMES, 0),
        pixel_histograms=np.zeros((NUM_CLASSES, NUM_CHANNELS, LEVELS), np.int64),
        patch_mean_histograms=np.zeros(
            (NUM_CLASSES, MEAN_BIN_EDGES.size - 1), np.int64
        ),
    )
    for _, patches, labels, flags in _chunks(files, stats.scanned_patches):
        for kind, flagged in flags.items():
            stats.outliers[kind] += int(flagged.sum())
        patch_means = patches.reshape(len(patches), -1).mean(axis=1)
        usable = ~np.logical_or.reduce(list(flags.values()))
        for label in range(NUM_CLASSES):
            of_class = labels == label
            means = np.histogram(patch_means[of_class], MEAN_BIN_EDGES)[0]
            stats.patch_mean_histograms[label] += means
            clean = patches[of_class & usable]
            stats.pixel_histograms[label] += _channel_histograms(clean)
    return stats


def pick_examples(files: SplitFiles, per_class: int) -> PatchExamples:
    """The first ``per_class`` patches of each class that are not outliers."""
    indices: dict[int, list[int]] = {label: [] for label in range(NUM_CLASSES)}
    patches: dict[int, list[np.ndarray]] = {label: [] for label in range(NUM_CLASSES)}
    limit = min(EXAMPLE_SEARCH_PATCHES, files.num_samples)
    for start, cleaned, labels, flags in _chunks(files, limit):
        flagged = np.logical_or.reduce(list(flags.values()))
        for offset in np.flatnonzero(~flagged):
            label = int(labels[offset])
            if len(indices[label]) < per_class:
                indices[label].append(int(start + offset))
                patches[label].append(cleaned[offset])
        if all(len(found) == per_class for found in indices.values()):
            break
    return PatchExamples(indices, patches)


def _chunks(
    files: SplitFiles, limit: int
) -> Iterator[tuple[int, np.ndarray, np.ndarray, dict[str, np.ndarray]]]:
    """(start, cleaned patches, labels, per-patch flag of each outlier kind) per chunk."""
    start = 0
    for raw in image_chunks(files.x_path, stop=limit):
        stop = start + len(raw)
        cleaned = to_uint8(raw)
        yield start, cleaned, files.labels[start:stop], _outlier_flags(raw, cleaned)
        start = stop


def _outlier_flags(raw: np.ndarray, cleaned: np.ndarray) -> dict[str, np.ndarray]:
    # NaN and > 255 as stored; all-0 / all-255 after cleaning, as filter_data sees them.
    all_0, all_255 = blackout_washout(cleaned)
    if raw.dtype.kind == "f":
        flat_raw = raw.reshape(len(raw), -1)
        nan, over = np.isnan(flat_raw).any(axis=1), (flat_raw > 255).any(axis=1)
    else:
        nan = over = np.zeros(len(raw), dtype=bool)
    return {
        "nan": nan,
        "over_255": over,
        "all_0": all_0,
        "all_255": all_255,
    }


def _channel_histograms(patches: np.ndarray) -> np.ndarray:
    # One bincount for all channels: channel c's level v lands in bin c * 256 + v.
    offsets = np.arange(NUM_CHANNELS, dtype=np.uint16) * LEVELS
    indices = patches.astype(np.uint16) + offsets
    counts = np.bincount(indices.ravel(), minlength=NUM_CHANNELS * LEVELS)
    return counts.reshape(NUM_CHANNELS, LEVELS)


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

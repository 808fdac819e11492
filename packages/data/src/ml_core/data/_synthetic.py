"""Synthetic PCAM: H&E-like patches with PCAM's label rule, written in the official layout
with blackout/washout outliers at indices recorded in ``synthetic_pcam.json``."""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ml_core.contract import atomic_output, write_json_atomic
from ml_core.data._cache import cache_dir
from ml_core.data._errors import DataError
from ml_core.data._layout import IMAGE_KEY, IMAGE_SHAPE, LABEL_KEY, SPLITS, split_paths
from ml_core.data._synthetic_render import render_patches

# Part of the cache directory name: bump whenever the generated pixels change.
SYNTHETIC_VERSION = 3
# Default sizes of the built-in dataset: generated in a few seconds, and the course MLP
# learns it to well above 0.8 validation accuracy within 2-3 epochs on 2 CPU cores.
DEFAULT_SYNTHETIC_SIZES: dict[str, int] = {"train": 6144, "valid": 1024, "test": 1024}
METADATA_NAME = "synthetic_pcam.json"
OUTLIER_FRACTION = 0.01
# Course-float variant: share of patches with NaN pixels and with 1e5 pixels.
POISON_FRACTION = 0.02
_RENDER_CHUNK = 512


def write_synthetic_pcam(
    out_dir: Path | str,
    *,
    n_train: int,
    n_valid: int,
    n_test: int,
    seed: int = 0,
    course_float: bool = False,
) -> Path:
    """Write the six official files and the metadata JSON into ``out_dir``,
    deterministic per ``seed``; ``course_float``: float32 ``x`` with NaN and 1e5 pixels."""
    out = Path(out_dir)
    sizes = {"train": n_train, "valid": n_valid, "test": n_test}
    for split, size in sizes.items():
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise ValueError(f"n_{split} must be a positive integer, got {size!r}")
    paths = [path for split in SPLITS for path in split_paths(out, split)]
    existing = [path for path in paths if path.exists()]
    if existing:
        raise DataError(f"{existing[0]}: already exists, refusing to overwrite")
    # Say up front when the files cannot fit, instead of failing half-way.
    samples = sum(sizes.values())
    needed = samples * math.prod(IMAGE_SHAPE) * (4 if course_float else 1)
    nearest = next(folder for folder in (out, *out.parents) if folder.exists())
    free = shutil.disk_usage(nearest).free
    if needed > free:
        raise DataError(
            f"{out}: {samples:,} patches need {needed / 1e9:,.1f} GB, "
            f"only {free / 1e9:,.1f} GB free there"
        )
    out.mkdir(parents=True, exist_ok=True)
    metadata: dict[str, Any] = {
        "generator": "ml_core.data synthetic PCAM",
        "version": SYNTHETIC_VERSION,
        "seed": seed,
        "course_float": course_float,
        "splits": {},
    }
    for split_number, split in enumerate(SPLITS):
        rng = np.random.default_rng([seed, split_number])
        metadata["splits"][split] = _write_split(
            out, split, sizes[split], rng, course_float=course_float
        )
    write_json_atomic(out / METADATA_NAME, metadata)
    return out


def read_synthetic_metadata(data_dir: Path | str) -> dict[str, Any]:
    """The metadata JSON of a synthetic dataset directory."""
    path = Path(data_dir) / METADATA_NAME
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise DataError(f"{path}: cannot read synthetic metadata: {error}") from error


def _write_split(
    out: Path, split: str, size: int, rng: np.random.Generator, *, course_float: bool
) -> dict[str, Any]:
    labels = rng.permutation(np.arange(size) % 2).astype(np.uint8)
    outliers = rng.choice(size, round(size * OUTLIER_FRACTION), replace=False)
    blackout, washout = np.sort(outliers[::2]), np.sort(outliers[1::2])
    poisoned = rng.choice(size, 2 * round(size * POISON_FRACTION), replace=False)
    nan_rows, huge_rows = np.sort(poisoned[::2]), np.sort(poisoned[1::2])
    x_path, y_path = split_paths(out, split)
    dtype = np.float32 if course_float else np.uint8
    with atomic_output(x_path) as temp_path, h5py.File(temp_path, "w") as file:
        images = file.create_dataset(IMAGE_KEY, shape=(size, *IMAGE_SHAPE), dtype=dtype)
        for start in range(0, size, _RENDER_CHUNK):
            stop = min(start + _RENDER_CHUNK, size)
            chunk = render_patches(labels[start:stop], rng).astype(dtype)
            rows = np.arange(start, stop)
            chunk[np.isin(rows, blackout)] = 0
            chunk[np.isin(rows, washout)] = 255
            if course_float:
                _poison(chunk, np.isin(rows, nan_rows), np.nan, rng)
                _poison(chunk, np.isin(rows, huge_rows), 1e5, rng)
            images[start:stop] = chunk
    with atomic_output(y_path) as temp_path, h5py.File(temp_path, "w") as file:
        file.create_dataset(LABEL_KEY, data=labels.reshape(size, 1, 1, 1))
    record: dict[str, Any] = {
        "num_samples": size,
        "positives": int(labels.sum()),
        "blackout": blackout.tolist(),
        "washout": washout.tolist(),
    }
    if course_float:
        record |= {"nan": nan_rows.tolist(), "huge": huge_rows.tolist()}
    return record


def _poison(
    chunk: np.ndarray, rows: np.ndarray, value: float, rng: np.random.Generator
) -> None:
    """Set a random 8x8 block of each selected patch to ``value``."""
    for row in np.flatnonzero(rows):
        top, left = rng.integers(0, IMAGE_SHAPE[0] - 8, size=2)
        chunk[row, top : top + 8, left : left + 8] = value


def ensure_synthetic_pcam(
    *, sizes: dict[str, int] | None = None, seed: int = 0
) -> Path:
    """The built-in dataset directory under :func:`cache_dir`, generated on first use
    into a temporary sibling renamed into place (never a half dataset under its name)."""
    sizes = dict(DEFAULT_SYNTHETIC_SIZES if sizes is None else sizes)
    counts = "-".join(str(sizes[split]) for split in SPLITS)
    final = cache_dir() / f"synthetic-pcam-v{SYNTHETIC_VERSION}-{counts}-seed{seed}"
    if (final / METADATA_NAME).is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}."))
    try:
        counts_by_name = {f"n_{split}": sizes[split] for split in SPLITS}
        write_synthetic_pcam(staging, **counts_by_name, seed=seed)
        try:
            staging.rename(final)
        except OSError:
            # Another process finished first: its identical copy is kept.
            if not (final / METADATA_NAME).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final

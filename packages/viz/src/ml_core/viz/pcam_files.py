"""Open and check the H5 files of a PCAM-format directory for reading in chunks.

Works on the official uint8 files, the course's float32 copy (NaN, 1e5, all-0, all-255
patches) and synthetic PCAM alike. File names come from ``ml_core.data``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from ml_core.data import SPLITS, has_split, split_paths
from ml_core.viz._errors import VizInputError

IMAGE_SHAPE = (96, 96, 3)
# Both are needed for the sampler check: get_dataloaders builds train and valid loaders.
REQUIRED_SPLITS = ("train", "valid")


@dataclass(frozen=True)
class SplitFiles:
    """One split whose files passed the checks; labels are small and held in RAM."""

    split: str
    x_path: Path
    num_patches: int
    dtype: np.dtype
    labels: np.ndarray


def open_pcam_splits(data_dir: Path) -> list[SplitFiles]:
    """Every split present in ``data_dir``, checked; VizInputError if it is not PCAM."""
    if not data_dir.is_dir():
        raise VizInputError(f"{data_dir}: no such directory")
    present = [split for split in SPLITS if has_split(data_dir, split)]
    missing = [split for split in REQUIRED_SPLITS if split not in present]
    if missing:
        names = ", ".join(path.name for path in split_paths(data_dir, missing[0]))
        raise VizInputError(
            f"{data_dir}: not a PCAM directory (missing {missing[0]} split: {names})"
        )
    return [_open_split(data_dir, split) for split in present]


def iter_patch_chunks(
    split: SplitFiles, chunk_size: int, limit: int
) -> Iterator[tuple[int, np.ndarray]]:
    """(start, patches as stored) for the first ``limit`` patches, in contiguous reads.

    Contiguous slices are far cheaper than per-item reads; memory stays at one chunk.
    """
    with _open(split.x_path) as file:
        images = file["x"]
        for start in range(0, limit, chunk_size):
            yield start, images[start : min(start + chunk_size, limit)]


def _open(path: Path) -> h5py.File:
    try:
        # Read-only: HDF5 file locks only fail or hang on cluster filesystems.
        return h5py.File(path, "r", locking=False)
    except OSError as error:
        raise VizInputError(f"{path}: not a readable HDF5 file ({error})") from None


def _dataset(file: h5py.File, path: Path, key: str) -> h5py.Dataset:
    node = file.get(key)
    if not isinstance(node, h5py.Dataset):
        raise VizInputError(f"{path}: no dataset {key!r} (keys: {', '.join(file)})")
    return node


def _open_split(data_dir: Path, split: str) -> SplitFiles:
    x_path, y_path = split_paths(data_dir, split)
    with _open(x_path) as file:
        images = _dataset(file, x_path, "x")
        if tuple(images.shape[1:]) != IMAGE_SHAPE or images.shape[0] == 0:
            raise VizInputError(
                f"{x_path}: 'x' has shape {images.shape}, expected (N, 96, 96, 3)"
            )
        if images.dtype.kind not in "uf":
            raise VizInputError(f"{x_path}: 'x' has dtype {images.dtype}")
        num_patches, dtype = images.shape[0], images.dtype
    with _open(y_path) as file:
        raw_labels = _dataset(file, y_path, "y")[()]
    labels = np.asarray(raw_labels).reshape(-1)
    if len(labels) != num_patches:
        raise VizInputError(
            f"{y_path}: {len(labels)} labels for {num_patches} patches in {x_path.name}"
        )
    if not np.isin(labels, (0, 1)).all():
        raise VizInputError(f"{y_path}: labels other than 0 and 1")
    return SplitFiles(split, x_path, num_patches, dtype, labels.astype(np.int64))

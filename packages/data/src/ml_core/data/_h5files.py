"""Validated access to PCAM H5 files: keys, shapes, dtypes, lengths and labels.

HDF5 file locking is off: the files are only read, and locks fail or hang on many
cluster filesystems.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from ml_core.data._errors import DataError
from ml_core.data._layout import IMAGE_KEY, IMAGE_SHAPE, LABEL_KEY

# Rows per read when scanning a whole file: ~28 MB of uint8 images.
SCAN_CHUNK = 1024


def open_h5(path: Path) -> h5py.File:
    """Open ``path`` read-only without HDF5 locking, or raise DataError naming it."""
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if not path.is_file():
        raise DataError(f"{path}: not a regular file")
    try:
        return h5py.File(path, "r", locking=False)
    except OSError as error:
        raise DataError(
            f"{path}: not a readable HDF5 file (truncated or corrupt?): {error}"
        ) from error


def _dataset(file: h5py.File, path: Path, key: str) -> h5py.Dataset:
    if key not in file:
        keys = ", ".join(sorted(file.keys())) or "none"
        raise DataError(f"{path}: missing key {key!r} (keys present: {keys})")
    node = file[key]
    if not isinstance(node, h5py.Dataset):
        raise DataError(f"{path}: {key!r} is a group, expected a dataset")
    return node


def image_dataset(file: h5py.File, path: Path) -> h5py.Dataset:
    """The validated image array ``x`` of shape (N, 96, 96, 3), numeric, N > 0."""
    images = _dataset(file, path, IMAGE_KEY)
    if images.ndim != 4 or tuple(images.shape[1:]) != IMAGE_SHAPE:
        raise DataError(
            f"{path}: key 'x' has shape {images.shape}, expected (N, 96, 96, 3)"
        )
    kind = images.dtype.kind
    if kind not in "uif":
        raise DataError(f"{path}: key 'x' has dtype {images.dtype}, expected numeric")
    if images.shape[0] == 0:
        raise DataError(f"{path}: empty split (0 images)")
    return images


def image_chunks(path: Path) -> Iterator[np.ndarray]:
    """The rows of ``path``'s image array, :data:`SCAN_CHUNK` at a time (constant memory)."""
    with open_h5(path) as file:
        images = image_dataset(file, path)
        for start in range(0, images.shape[0], SCAN_CHUNK):
            try:
                rows = images[start : start + SCAN_CHUNK]
            except OSError as error:
                raise DataError(f"{path}: cannot read images: {error}") from error
            yield rows


def read_labels(path: Path) -> np.ndarray:
    """All labels of a ``y`` file as a 1-D int64 array with values in {0, 1}."""
    with open_h5(path) as file:
        labels = _dataset(file, path, LABEL_KEY)
        if labels.ndim == 0 or any(size != 1 for size in labels.shape[1:]):
            raise DataError(
                f"{path}: key 'y' has shape {labels.shape}, expected (N, 1, 1, 1)"
            )
        if labels.dtype.kind not in "uifb":
            raise DataError(f"{path}: key 'y' has dtype {labels.dtype}, expected int")
        try:
            values = labels[()].reshape(-1)
        except OSError as error:
            raise DataError(f"{path}: cannot read key 'y': {error}") from error
    if values.size == 0:
        raise DataError(f"{path}: empty split (0 labels)")
    bad = ~np.isin(values, (0, 1))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}: {int(bad.sum())} labels outside {{0, 1}} "
            f"(first at index {first}: {values[first]!r})"
        )
    return values.astype(np.int64)


@dataclass(frozen=True)
class SplitFiles:
    """One validated split: both paths, image count and dtype, all labels in RAM."""

    x_path: Path
    y_path: Path
    num_samples: int
    image_dtype: np.dtype
    labels: np.ndarray

    @classmethod
    def open(cls, x_path: Path | str, y_path: Path | str) -> SplitFiles:
        """Validate both files (keys, shapes, dtypes, lengths, labels) or raise."""
        x_path, y_path = Path(x_path), Path(y_path)
        with open_h5(x_path) as file:
            images = image_dataset(file, x_path)
            num_samples, dtype = images.shape[0], images.dtype
        labels = read_labels(y_path)
        if len(labels) != num_samples:
            raise DataError(
                f"{y_path}: {len(labels)} labels but {x_path.name} has "
                f"{num_samples} images"
            )
        return cls(x_path, y_path, num_samples, dtype, labels)

"""Validated, fork-safe access to PCAM H5 files: keys, shapes, dtypes, labels, rows.
HDF5 file locking is off: the files are only read, and locks hang on cluster filesystems.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    if images.dtype.kind not in "uif":
        raise DataError(f"{path}: key 'x' has dtype {images.dtype}, expected numeric")
    if images.shape[0] == 0:
        raise DataError(f"{path}: empty split (0 images)")
    return images


def image_chunks(path: Path, stop: int | None = None) -> Iterator[np.ndarray]:
    """The rows of ``path``'s image array up to ``stop`` (default all), in file order,
    :data:`SCAN_CHUNK` at a time (constant memory)."""
    images = H5Images(path)
    try:
        end = min(images.dataset.shape[0], stop or images.dataset.shape[0])
        for start in range(0, end, SCAN_CHUNK):
            yield images.read_many(np.arange(start, min(start + SCAN_CHUNK, end)))
    finally:
        images.close()


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


_OPEN_READERS: weakref.WeakSet[H5Images] = weakref.WeakSet()


def raw_offset(images: h5py.Dataset) -> int | None:
    """Byte offset of the array in its file when plain reads at it are exact, else None."""
    plain = (
        images.chunks is None
        and images.compression is None
        and not images.external
        and not images.is_virtual
        and images.dtype.isnative
        and hasattr(os, "preadv")
    )
    return images.id.get_offset() if plain else None


def _pread_rows(descriptor: int, offset: int, out: np.ndarray, first_row: int) -> None:
    """Fill ``out`` (C-contiguous) in place with the rows from ``first_row`` on."""
    row_bytes = out[0].nbytes
    view = memoryview(out).cast("B")
    done = 0
    while done < out.nbytes:
        read = os.preadv(
            descriptor, [view[done:]], offset + first_row * row_bytes + done
        )
        if read == 0:
            raise OSError(f"short read at row {first_row} (file truncated?)")
        done += read


class H5Images:
    """Reads rows of the ``x`` array, opening the file lazily once per process: h5py
    handles must never cross a fork (a child reopening the file reuses its state), so
    every handle closes before a fork and a reader pickles as its path. Plain layouts
    are read with ``pread`` at HDF5's offset, several times cheaper than h5py."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: h5py.File | None = None
        self._images: h5py.Dataset | None = None
        self._raw: tuple[int, int] | None = None  # (file descriptor, byte offset)
        self._pid: int | None = None

    @property
    def dataset(self) -> h5py.Dataset:
        """The h5py ``x`` dataset, opened in this process (no rows are read)."""
        if self._images is None or self._pid != os.getpid():
            # Whatever was inherited through fork belongs to the parent: never reuse it.
            self._file = open_h5(self.path)
            self._images = image_dataset(self._file, self.path)
            offset = raw_offset(self._images)
            if offset is not None:
                self._raw = (os.open(self.path, os.O_RDONLY), offset)
            self._pid = os.getpid()
            _OPEN_READERS.add(self)
        return self._images

    def read_many(self, indices: np.ndarray) -> np.ndarray:
        """Images at ``indices`` (any order, repeats allowed) in the file's dtype; one
        read per run of consecutive indices (h5py fancy indexing is far slower)."""
        unique, inverse = np.unique(indices, return_inverse=True)
        breaks = (np.flatnonzero(np.diff(unique) != 1) + 1).tolist()
        images = self.dataset
        out = np.empty((len(unique), *IMAGE_SHAPE), dtype=images.dtype)
        try:
            for start, stop in zip([0, *breaks], [*breaks, len(unique)], strict=True):
                first = int(unique[start])
                if self._raw is None:
                    out[start:stop] = images[first : first + stop - start]
                else:
                    _pread_rows(*self._raw, out[start:stop], first)
        except OSError as error:
            raise DataError(f"{self.path}: cannot read images: {error}") from error
        if len(unique) == len(indices) and np.array_equal(unique, indices):
            return out
        return out[inverse]

    def close(self) -> None:
        """Close the handles held by this process, if any."""
        if self._pid == os.getpid():
            if self._file is not None:
                self._file.close()
            if self._raw is not None:
                os.close(self._raw[0])
        self._file = self._images = self._raw = self._pid = None
        _OPEN_READERS.discard(self)

    def __getstate__(self) -> dict[str, Any]:
        # Workers get a fresh reader's state: the path, no handles.
        return vars(H5Images(self.path))


def _close_before_fork() -> None:
    for reader in list(_OPEN_READERS):
        reader.close()


os.register_at_fork(before=_close_before_fork)

"""Lazy, fork-safe reads of image rows from a PCAM ``x`` file.

h5py handles must never cross a fork (HDF5 reuses an open file's state, and its file
offset, when a child reopens the same file), so :class:`H5Images` opens on first use in
whichever process reads, closes every handle before a fork, and pickles as a path.

For the common layout (contiguous, uncompressed, native byte order) rows are read
straight from the file at the offset HDF5 reports: one ``pread`` per run of consecutive
rows, several times cheaper than an h5py call per row. Other layouts go through h5py.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ml_core.data._errors import DataError
from ml_core.data._h5files import image_dataset, open_h5
from ml_core.data._layout import IMAGE_SHAPE

_OPEN_READERS: weakref.WeakSet[H5Images] = weakref.WeakSet()


def _close_before_fork() -> None:
    for reader in list(_OPEN_READERS):
        reader.close()


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


def consecutive_runs(sorted_unique: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) positions of the runs of consecutive values."""
    breaks = np.flatnonzero(np.diff(sorted_unique) != 1) + 1
    starts = [0, *breaks.tolist()]
    stops = [*breaks.tolist(), len(sorted_unique)]
    return list(zip(starts, stops, strict=True))


def _pread_rows(descriptor: int, offset: int, out: np.ndarray, first_row: int) -> None:
    """Fill ``out`` (C-contiguous) with the rows starting at ``first_row``, in place
    (straight into the array: no temporary bytes object, one copy fewer)."""
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
    """Reads rows of the ``x`` array, opening the file lazily once per process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: h5py.File | None = None
        self._images: h5py.Dataset | None = None
        self._raw: tuple[int, int] | None = None  # (file descriptor, byte offset)
        self._pid: int | None = None

    @property
    def dataset(self) -> h5py.Dataset:
        """The h5py ``x`` dataset, opened in this process (no rows are read)."""
        return self._dataset()

    def _dataset(self) -> h5py.Dataset:
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

    def read_one(self, index: int) -> np.ndarray:
        """Image ``index`` in the file's dtype, (96, 96, 3)."""
        return self._read(lambda images: images[index])

    def read_slice(self, start: int, stop: int) -> np.ndarray:
        """Images ``start:stop`` in the file's dtype, one contiguous read."""
        return self._read(lambda images: images[start:stop])

    def read_many(self, indices: np.ndarray) -> np.ndarray:
        """Images at ``indices`` (any order, repeats allowed) in the file's dtype.

        Each run of consecutive indices is read with one call; h5py fancy indexing is
        avoided because it is several times slower than single-row reads.
        """
        unique, inverse = np.unique(indices, return_inverse=True)
        runs = consecutive_runs(unique)

        def read(images: h5py.Dataset) -> np.ndarray:
            out = np.empty((len(unique), *IMAGE_SHAPE), dtype=images.dtype)
            for start, stop in runs:
                first = int(unique[start])
                if self._raw is None:
                    out[start:stop] = images[first : first + stop - start]
                else:
                    _pread_rows(*self._raw, out[start:stop], first)
            return out

        gathered = self._read(read)
        if len(unique) == len(indices) and np.array_equal(unique, indices):
            return gathered
        return gathered[inverse]

    def _read(self, read: Any) -> np.ndarray:
        images = self._dataset()
        try:
            return read(images)
        except OSError as error:
            raise DataError(f"{self.path}: cannot read images: {error}") from error

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
        # Workers get the path only and open their own handles.
        return {"path": self.path, "_file": None, "_images": None, "_raw": None,
                "_pid": None}  # fmt: skip


os.register_at_fork(before=_close_before_fork)

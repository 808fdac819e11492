"""The fast path: a split served a whole batch per call, uint8 until one conversion.

With ``batch_sampler`` set, DataLoader hands each worker the index list of a full batch
and calls :meth:`PCAMBatches.__getitems__` once per batch, so the h5 file is read with as
few calls as possible and no per-sample tensors or collation are made.
"""

from __future__ import annotations

import ctypes
import functools
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from ml_core.data._h5files import H5Images, SplitFiles, image_chunks
from ml_core.data._layout import IMAGE_SHAPE
from ml_core.data._outliers import kept_rows
from ml_core.data._pixels import to_uint8

Batch = tuple[torch.Tensor, torch.Tensor]
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 1 << 20


@functools.cache
def limit_heap_growth() -> bool:
    """Fix glibc's mmap threshold at 1 MiB, once per process; False where not glibc.

    glibc serves blocks above its mmap threshold with ``mmap`` and returns them on free,
    but after the first such free it raises the threshold to that size (up to 32 MB).
    Batch-sized buffers (7-28 MB for 256 PCAM patches) then come from the heap, and
    mixing them with torch's allocations fragments it: a full-size PCAM epoch grew the
    process by ~4 GB per validation pass (measured). A fixed threshold keeps those
    buffers mmapped.
    """
    # The process's own symbols include libc's; ctypes.util.find_library would run
    # ldconfig in a subprocess to find the same library.
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))


def load_planar(x_path: Path, num_samples: int, device: torch.device) -> torch.Tensor:
    """The whole image file as one cleaned (N, 3, 96, 96) uint8 tensor on ``device``.

    Each chunk goes straight into the preallocated tensor, so host memory stays
    constant: the 7.2 GB train split never exists twice, nor once on the host when the
    device holds it. Channel-first once at load time, so each batch is a contiguous
    gather followed by a contiguous conversion.
    """
    height, width, channels = IMAGE_SHAPE
    shape = (num_samples, channels, height, width)
    on_cuda = device.type == "cuda"
    if on_cuda:
        out = torch.empty(shape, dtype=torch.uint8, device=device)
    else:
        # numpy asks for huge pages for large arrays and torch does not: the fill runs
        # about twice as fast (measured).
        out = torch.from_numpy(np.empty(shape, dtype=np.uint8))
    start = 0
    for rows in image_chunks(x_path):
        chunk = to_uint8(rows)
        stop = start + len(chunk)
        if on_cuda:
            # The GPU does the channel-first transpose, far faster than the host.
            on_device = torch.from_numpy(chunk).to(device)
            out[start:stop].copy_(on_device.permute(0, 3, 1, 2))
        else:
            out.numpy()[start:stop] = chunk.transpose(0, 3, 1, 2)
        start = stop
    return out


def to_model_batch(planar: np.ndarray, *, uint8_batches: bool) -> torch.Tensor:
    """(B, 3, 96, 96) uint8 (any strides) -> float32 in [0, 1], or uint8 if asked.

    numpy does the layout change and the conversion in one single-threaded pass: torch's
    intra-op threads cost more than they save on one batch, and stall badly when the
    cores are shared. Dividing by 255 in float32 matches ``ToTensor`` bit for bit.
    """
    if uint8_batches:
        return torch.from_numpy(np.ascontiguousarray(planar))
    out = np.empty(planar.shape, dtype=np.float32)
    np.divide(planar, np.float32(255), out=out, dtype=np.float32)
    return torch.from_numpy(out)


def pass_batch(batch: Batch) -> Batch:
    """collate_fn for PCAMBatches: the batch is already collated."""
    return batch


class PCAMBatches(Dataset):
    """A PCAM split whose ``__getitems__(positions)`` returns ``(images, labels)``.

    ``positions`` index the kept samples (after ``filter_data``). ``in_memory=True``
    loads the split as uint8 into RAM once; otherwise each batch is read from the h5 file
    (opened lazily per process).
    """

    def __init__(
        self,
        split: SplitFiles,
        *,
        filter_data: bool = False,
        in_memory: bool = False,
        uint8_batches: bool = False,
    ) -> None:
        limit_heap_growth()
        self.split = split
        self.indices = kept_rows(split, filter_data)
        self.labels = split.labels[self.indices]
        self.uint8_batches = uint8_batches
        self._images = H5Images(split.x_path)
        self._in_ram = (
            load_planar(split.x_path, split.num_samples, torch.device("cpu")).numpy()
            if in_memory
            else None
        )

    def __len__(self) -> int:
        return len(self.indices)

    def __getitems__(self, positions: list[int]) -> Batch:
        file_indices = self.indices[np.asarray(positions, dtype=np.int64)]
        if self._in_ram is not None:
            planar = self._in_ram[file_indices]
        else:
            images = to_uint8(self._images.read_many(file_indices))
            planar = images.transpose(0, 3, 1, 2)
        labels = torch.from_numpy(self.split.labels[file_indices])
        return to_model_batch(planar, uint8_batches=self.uint8_batches), labels

    def __getitem__(self, position: int) -> Any:
        images, labels = self.__getitems__([position])
        return images[0], labels[0]

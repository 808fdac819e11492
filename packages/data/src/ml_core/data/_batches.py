"""The host path: a split served a whole batch per ``__getitems__`` call, uint8 until one
conversion, read from the h5 file with as few calls as possible."""

from __future__ import annotations

import ctypes
import functools
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ml_core.data._config import DataConfig
from ml_core.data._h5files import H5Images, SplitFiles, image_chunks
from ml_core.data._layout import IMAGE_SHAPE
from ml_core.data._pixels import kept_rows, to_uint8

Batch = tuple[torch.Tensor, torch.Tensor]
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 1 << 20


@functools.cache
def limit_heap_growth() -> bool:
    """Fix glibc's mmap threshold at 1 MiB, once per process; False where not glibc.

    glibc's dynamic threshold grows after the first large free, so batch-sized buffers
    then come from the heap and fragment it (a full-size epoch grew ~4 GB per
    validation pass); a fixed threshold keeps them mmapped.
    """
    # The process's own symbols include libc's (find_library would run ldconfig).
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))


def load_planar(x_path: Path, num_samples: int, device: torch.device) -> torch.Tensor:
    """The whole image file as one cleaned (N, 3, 96, 96) uint8 tensor on ``device``,
    filled chunk by chunk (host memory stays constant), channel-first once."""
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


def pass_batch(batch: Batch) -> Batch:
    """collate_fn for PCAMBatches: the batch is already collated."""
    return batch


class PCAMBatches(Dataset):
    """A PCAM split whose ``__getitems__(positions)`` returns ``(images, labels)`` on the
    CPU; positions index the kept samples, read from RAM or from the file."""

    device = torch.device("cpu")  # where its batches come out

    def __init__(
        self, split: SplitFiles, config: DataConfig, *, uint8_batches: bool
    ) -> None:
        limit_heap_growth()
        self.split = split
        self.indices = kept_rows(split, config.filter_data)
        self.labels = split.labels[self.indices]
        self.uint8_batches = uint8_batches
        self._images = H5Images(split.x_path)
        self._in_ram = (
            load_planar(split.x_path, split.num_samples, self.device).numpy()
            if config.split_location == "ram"
            else None
        )

    def __len__(self) -> int:
        return len(self.indices)

    def __getitems__(self, positions: list[int]) -> Batch:
        file_indices = self.indices[np.asarray(positions, dtype=np.int64)]
        if self._in_ram is not None:
            planar = self._in_ram[file_indices]
        else:
            rows = to_uint8(self._images.read_many(file_indices))
            planar = rows.transpose(0, 3, 1, 2)
        labels = torch.from_numpy(self.split.labels[file_indices])
        if self.uint8_batches:
            return torch.from_numpy(np.ascontiguousarray(planar)), labels
        # One single-threaded numpy pass (torch's intra-op threads cost more than they
        # save on one batch); dividing by 255 in float32 matches ToTensor bit for bit.
        images = np.empty(planar.shape, dtype=np.float32)
        np.divide(planar, np.float32(255), out=images, dtype=np.float32)
        return torch.from_numpy(images), labels

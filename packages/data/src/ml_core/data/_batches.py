"""The fast path: a split served a whole batch per call, uint8 until one conversion.

With ``batch_sampler`` set, DataLoader hands each worker the index list of a full batch
and calls :meth:`PCAMBatches.__getitems__` once per batch, so the h5 file is read with as
few calls as possible and no per-sample tensors or collation are made.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from ml_core.data._errors import DataError
from ml_core.data._h5files import SCAN_CHUNK, SplitFiles
from ml_core.data._image_reader import H5Images
from ml_core.data._layout import IMAGE_SHAPE
from ml_core.data._outliers import kept_indices
from ml_core.data._pixels import to_uint8

Batch = tuple[torch.Tensor, torch.Tensor]


def load_planar_uint8(images: H5Images, num_samples: int) -> np.ndarray:
    """The whole image file as one (N, 3, 96, 96) uint8 array, cleaned chunk by chunk.

    Channel-first once at load time, so each batch is a contiguous gather followed by a
    contiguous conversion.
    """
    height, width, channels = IMAGE_SHAPE
    out = np.empty((num_samples, channels, height, width), dtype=np.uint8)
    for start in range(0, num_samples, SCAN_CHUNK):
        stop = min(start + SCAN_CHUNK, num_samples)
        out[start:stop] = to_uint8(images.read_slice(start, stop)).transpose(0, 3, 1, 2)
    images.close()
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
        self.split = split
        self.indices = (
            kept_indices(split.x_path) if filter_data else np.arange(split.num_samples)
        )
        if len(self.indices) == 0:
            raise DataError(
                f"{split.x_path}: every image is blackout or washout, "
                "nothing left after filter_data"
            )
        self.labels = split.labels[self.indices]
        self.uint8_batches = uint8_batches
        self._images = H5Images(split.x_path)
        self._in_ram = (
            load_planar_uint8(self._images, split.num_samples) if in_memory else None
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

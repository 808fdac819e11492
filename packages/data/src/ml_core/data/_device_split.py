"""A whole PCAM split as one uint8 (N, 3, 96, 96) tensor, on the device when it fits.

The split is read from its h5 file chunk by chunk (:data:`SCAN_CHUNK` rows, ~28 MB) and
each cleaned chunk is copied straight into the preallocated tensor, so host memory stays
constant: the 7.2 GB train split never exists twice, nor once on the host when the
device holds it. When the device lacks room the tensor lives in ordinary host memory
and :mod:`ml_core.data._prefetch` copies each gathered batch to the device.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ml_core.data._errors import DataError
from ml_core.data._h5files import SCAN_CHUNK, SplitFiles
from ml_core.data._image_reader import H5Images
from ml_core.data._layout import IMAGE_SHAPE
from ml_core.data._outliers import kept_indices
from ml_core.data._pixels import to_uint8

# Device memory left free after the split is loaded: the CUDA context, the model, its
# optimizer state, activations and the other splits. Generous for the course models.
DEVICE_HEADROOM_BYTES = 2 * 1024**3

Batch = tuple[torch.Tensor, torch.Tensor]


def split_nbytes(num_samples: int) -> int:
    """Bytes of ``num_samples`` uint8 patches."""
    return num_samples * int(np.prod(IMAGE_SHAPE))


def free_device_bytes(device: torch.device) -> int | None:
    """Free memory of a CUDA device; None for devices without a query (CPU: host RAM)."""
    if device.type != "cuda":
        return None
    free, _total = torch.cuda.mem_get_info(device)
    return int(free)


def fits_on_device(
    nbytes: int,
    device: torch.device,
    *,
    memory_budget: int | None = None,
    headroom: int = DEVICE_HEADROOM_BYTES,
) -> bool:
    """Whether ``nbytes`` can live on ``device`` leaving ``headroom`` free.

    ``memory_budget`` replaces the device's free memory (tests use it to force the
    host fallback on any device). Without either, the device is host RAM: it fits.
    """
    available = (
        memory_budget if memory_budget is not None else free_device_bytes(device)
    )
    if available is None:
        return True
    return nbytes + headroom <= available


def load_planar_tensor(images: H5Images, num_samples: int, out: torch.Tensor) -> None:
    """Fill ``out`` (N, 3, 96, 96) uint8 on any device from the image file, chunk by
    chunk, with the course's NaN/clip semantics."""
    for start in range(0, num_samples, SCAN_CHUNK):
        stop = min(start + SCAN_CHUNK, num_samples)
        chunk = to_uint8(images.read_slice(start, stop))
        if out.device.type == "cuda":
            # The GPU does the channel-first transpose, far faster than the host.
            on_device = torch.from_numpy(chunk).to(out.device)
            out[start:stop].copy_(on_device.permute(0, 3, 1, 2))
        else:
            planar = np.ascontiguousarray(chunk.transpose(0, 3, 1, 2))
            out[start:stop].copy_(torch.from_numpy(planar))
    images.close()


@dataclass(frozen=True)
class DeviceSplit:
    """A loaded split: ``images`` (all file rows), ``labels`` (long, same device) and
    ``indices`` (file rows kept after ``filter_data``, on the target device).

    ``resident``: the images live on the target device; False means they stay in host
    memory and batches are copied over (the fallback; on a CPU target, the same RAM).
    """

    x_path: Path
    images: torch.Tensor
    labels: torch.Tensor
    indices: torch.Tensor
    device: torch.device
    resident: bool

    def __len__(self) -> int:
        return len(self.indices)

    def gather(self, positions: torch.Tensor) -> Batch:
        """Images and labels at ``positions`` (kept-sample positions), on the device
        that holds the images: one ``index_select`` each."""
        rows = self.indices.index_select(0, positions.to(self.indices.device))
        rows = rows.to(self.images.device)
        return self.images.index_select(0, rows), self.labels.index_select(0, rows)

    @classmethod
    def load(
        cls,
        split: SplitFiles,
        device: torch.device,
        *,
        filter_data: bool = False,
        memory_budget: int | None = None,
        headroom: int = DEVICE_HEADROOM_BYTES,
    ) -> DeviceSplit:
        """Read ``split`` into ``device`` memory if it fits, else into host memory."""
        kept = (
            kept_indices(split.x_path)
            if filter_data
            else np.arange(split.num_samples, dtype=np.int64)
        )
        if len(kept) == 0:
            raise DataError(
                f"{split.x_path}: every image is blackout or washout, "
                "nothing left after filter_data"
            )
        nbytes = split_nbytes(split.num_samples)
        resident = fits_on_device(
            nbytes, device, memory_budget=memory_budget, headroom=headroom
        )
        home = device if resident else torch.device("cpu")
        images = torch.empty(
            (split.num_samples, IMAGE_SHAPE[2], *IMAGE_SHAPE[:2]),
            dtype=torch.uint8,
            device=home,
        )
        load_planar_tensor(H5Images(split.x_path), split.num_samples, images)
        labels = torch.from_numpy(split.labels.astype(np.int64)).to(home)
        indices = torch.from_numpy(kept.astype(np.int64)).to(device)
        return cls(split.x_path, images, labels, indices, device, resident)

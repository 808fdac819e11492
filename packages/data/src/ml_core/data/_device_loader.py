"""Device-resident loaders (``split_location: device``): gathers on the device.

Same sampler as the host loaders (drawn on the device), but each split is one uint8
tensor on the device and a batch is two ``index_select`` calls there. Batches are uint8
(B, 3, 96, 96) and long (B,) on the device; the trainer converts (and normalises) them
where they already are.

A split that does not fit in free device memory (less :data:`DEVICE_HEADROOM_BYTES`)
stays in host memory and batches reach the device through a background prefetch
thread (pinned memory, non-blocking copies on a side CUDA stream).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

import torch

from ml_core.data._device_split import Batch, DeviceSplit
from ml_core.data._prefetch import prefetched
from ml_core.data._sampler import EpochBatchSampler


class OrderedPositions:
    """Fixed-order position batches (validation and test): 0..N-1 in chunks."""

    def __init__(self, num_samples: int, batch_size: int, device: torch.device) -> None:
        self.num_samples, self.batch_size, self.device = num_samples, batch_size, device

    def __len__(self) -> int:
        return math.ceil(self.num_samples / self.batch_size)

    def __iter__(self) -> Iterator[torch.Tensor]:
        order = torch.arange(self.num_samples, device=self.device)
        return iter(order.split(self.batch_size))


class DeviceLoader:
    """Iterable of ``(uint8 images, long labels)`` batches on ``split.device``.

    ``batch_sampler`` yields position tensors; ``len()`` is the batches per full epoch.
    """

    def __init__(
        self, split: DeviceSplit, batch_sampler: EpochBatchSampler | OrderedPositions
    ) -> None:
        self.split = split
        self.batch_sampler = batch_sampler

    @property
    def resident(self) -> bool:
        """True when the split lives on the device (False: host with prefetch)."""
        return self.split.resident

    def __len__(self) -> int:
        return len(self.batch_sampler)

    def __iter__(self) -> Iterator[Batch]:
        # iter() on the sampler now, in this thread: it reads and resets skip_batches.
        positions = iter(self.batch_sampler)
        host_or_device = self._gathered(positions)
        if self.split.resident:
            return host_or_device
        return prefetched(host_or_device, self.split.device)

    def _gathered(self, positions: Iterable[torch.Tensor]) -> Iterator[Batch]:
        for batch_positions in positions:
            yield self.split.gather(batch_positions)


def resolve_device(device: torch.device | str) -> torch.device:
    """``device`` with an explicit index for CUDA (``cuda`` -> ``cuda:<current>``)."""
    device = torch.device(device)
    if device.type == "cuda" and device.index is None:
        return torch.device("cuda", torch.cuda.current_device())
    return device

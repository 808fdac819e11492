"""Device-resident loaders: the split in device memory, sampling and gathers there.

``get_device_dataloaders(config, device)`` is the fast-path twin of
:func:`ml_core.data.get_dataloaders`: same config, same seeded, balanced, resumable
order semantics (``resumable_sampler``, ``set_epoch``, ``skip_batches``), but each
split is one uint8 tensor on ``device``, the epoch order is drawn on the device with a
generator seeded from (seed, epoch), and a batch is two ``index_select`` calls on the
device. Batches are uint8 (B, 3, 96, 96) and long (B,) on ``device``; the trainer's
``to_device`` converts (and normalises) them where they already are.

A split that does not fit in free device memory (less :data:`DEVICE_HEADROOM_BYTES`)
stays in host memory and batches reach the device through a background prefetch
thread (pinned memory, non-blocking copies on a side CUDA stream).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import torch

from ml_core.data.device_split import DEVICE_HEADROOM_BYTES, Batch, DeviceSplit
from ml_core.data.distributed_sampler import DistributedBatchSampler, RankShare
from ml_core.data.errors import DataError
from ml_core.data.h5files import SplitFiles
from ml_core.data.layout import split_paths
from ml_core.data.options import DataOptions
from ml_core.data.prefetch import prefetched
from ml_core.data.sampler import ResumableBatchSampler, epoch_generator


def epoch_device_generator(
    seed: int, epoch: int, device: torch.device
) -> torch.Generator:
    """A generator on ``device`` seeded like :func:`epoch_generator` from (seed, epoch).

    On the CPU it is the very generator the standard sampler uses, so both loaders
    draw the same order; a CUDA generator draws a different but equally fixed order.
    """
    seed_value = epoch_generator(seed, epoch).initial_seed()
    return torch.Generator(device=device).manual_seed(seed_value)


class _DeviceOrder:
    """Sampler mixin: the epoch order drawn on ``self.device``, batches as tensors."""

    device: torch.device
    seed: int
    epoch: int
    num_samples: int
    _device_weights: torch.Tensor | None

    def _place(self, labels: np.ndarray, device: torch.device, balance: bool) -> None:
        self.device = device
        self._device_weights = (
            torch.from_numpy(1.0 / np.bincount(labels)[labels]).to(device)
            if balance
            else None
        )

    def epoch_order(self) -> torch.Tensor:
        """Every position drawn in the current epoch, in order, on the device."""
        generator = epoch_device_generator(self.seed, self.epoch, self.device)
        if self._device_weights is None:
            return torch.randperm(
                self.num_samples, generator=generator, device=self.device
            )
        return torch.multinomial(
            self._device_weights,
            self.num_samples,
            replacement=True,
            generator=generator,
        )


class DeviceBatchSampler(_DeviceOrder, ResumableBatchSampler):
    """:class:`ResumableBatchSampler` whose order is drawn on ``device`` and whose
    batches are position tensors there (no host round trip per batch)."""

    def __init__(
        self,
        labels: np.ndarray,
        batch_size: int,
        device: torch.device,
        *,
        seed: int = 0,
        balance: bool = True,
    ) -> None:
        super().__init__(labels, batch_size, seed=seed, balance=balance)
        self._place(labels, device, balance)

    def _batches(self, order: torch.Tensor, first: int) -> Iterator[torch.Tensor]:
        rest = order[first * self.batch_size :]
        # split() of an empty tensor yields one empty chunk, not none.
        return iter(rest.split(self.batch_size) if len(rest) else ())


class DeviceDistributedBatchSampler(_DeviceOrder, DistributedBatchSampler):
    """:class:`DistributedBatchSampler` (this rank's share of each global batch) with
    the order drawn on ``device`` and position tensors as batches."""

    def __init__(
        self,
        labels: np.ndarray,
        batch_size: int,
        share: RankShare,
        device: torch.device,
        *,
        seed: int = 0,
        balance: bool = True,
    ) -> None:
        super().__init__(labels, batch_size, share, seed=seed, balance=balance)
        self._place(labels, device, balance)

    def _batches(self, order: torch.Tensor, first: int) -> Iterator[torch.Tensor]:
        rank, world = self.share.rank, self.share.world_size
        for index in range(first, len(self)):
            start = index * self.global_batch_size
            batch = order[start : start + self.global_batch_size]
            share = len(batch) // world
            yield batch[rank * share : (rank + 1) * share]


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
        self,
        split: DeviceSplit,
        batch_sampler: DeviceBatchSampler
        | DeviceDistributedBatchSampler
        | OrderedPositions,
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


def get_device_dataloaders(
    config: Mapping[str, Any],
    device: torch.device | str,
    *,
    memory_budget: int | None = None,
    headroom: int = DEVICE_HEADROOM_BYTES,
) -> tuple[DeviceLoader, DeviceLoader]:
    """(train_loader, val_loader) held on ``device`` (see the module docstring).

    Reads the same ``config`` as ``get_dataloaders``, ``config["distributed"]``
    included (this rank's share of each global batch, as there); ``num_workers``,
    ``in_memory``, ``pin_memory`` and ``uint8_batches`` do not apply (batches are
    always uint8 on the device). ``memory_budget`` (bytes) replaces the device's free memory when
    deciding placement; ``headroom`` is left free on the device.
    """
    options = DataOptions.from_config(config)
    share = RankShare.from_config(config)
    target = resolve_device(device)
    train = _load(options, "train", target, memory_budget, headroom)
    labels = train.labels.cpu().numpy()[train.indices.cpu().numpy()]
    sampler: DeviceBatchSampler | DeviceDistributedBatchSampler
    if share.world_size > 1:
        sampler = DeviceDistributedBatchSampler(
            labels,
            options.batch_size,
            share,
            target,
            seed=options.seed,
            balance=options.balance,
        )
    else:
        sampler = DeviceBatchSampler(
            labels,
            options.batch_size,
            target,
            seed=options.seed,
            balance=options.balance,
        )
    val = _load(options, "valid", target, memory_budget, headroom)
    return DeviceLoader(train, sampler), _ordered(val, options, target)


def get_device_split_loader(
    config: Mapping[str, Any],
    split: str,
    device: torch.device | str,
    *,
    memory_budget: int | None = None,
    headroom: int = DEVICE_HEADROOM_BYTES,
) -> DeviceLoader:
    """A fixed-order device loader over any split (e.g. ``test`` for evaluation)."""
    options = DataOptions.from_config(config)
    target = resolve_device(device)
    loaded = _load(options, split, target, memory_budget, headroom)
    return _ordered(loaded, options, target)


def _ordered(
    split: DeviceSplit, options: DataOptions, device: torch.device
) -> DeviceLoader:
    return DeviceLoader(split, OrderedPositions(len(split), options.batch_size, device))


def _load(
    options: DataOptions,
    split: str,
    device: torch.device,
    memory_budget: int | None,
    headroom: int,
) -> DeviceSplit:
    if not options.data_path.is_dir():
        raise DataError(f"{options.data_path}: data directory not found")
    files = SplitFiles.open(*split_paths(options.data_path, split))
    return DeviceSplit.load(
        files,
        device,
        filter_data=options.filter_data,
        memory_budget=memory_budget,
        headroom=headroom,
    )

"""DataLoaders from the course config: balanced, seeded, resumable train batches and
fixed-order validation/test batches, all through the fast batch path."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch.utils.data import BatchSampler, DataLoader, SequentialSampler

from ml_core.data.batches import PCAMBatches, pass_batch
from ml_core.data.distributed_sampler import DistributedBatchSampler, RankShare
from ml_core.data.errors import DataError
from ml_core.data.h5files import SplitFiles
from ml_core.data.heap import limit_heap_growth
from ml_core.data.image_reader import H5Images
from ml_core.data.layout import split_paths
from ml_core.data.options import DataOptions
from ml_core.data.pixels import channel_statistics
from ml_core.data.sampler import ResumableBatchSampler

__all__ = [
    "get_dataloaders",
    "get_split_loader",
    "get_test_loader",
    "resumable_sampler",
    "split_channel_statistics",
]


def get_dataloaders(config: Mapping[str, Any]) -> tuple[DataLoader, DataLoader]:
    """(train_loader, val_loader) for ``config["data"]["data_path"]``.

    Train batches follow a :class:`ResumableBatchSampler` (balanced unless
    ``balance: false``); validation batches come in file order.

    With ``config["distributed"] = {"rank": r, "world_size": w}`` (w > 1) the train
    loader yields rank ``r``'s share of each global batch of ``w * batch_size``
    samples (:class:`DistributedBatchSampler`; ``batch_size`` is per rank); the
    validation loader is the whole split on every rank.
    """
    options = DataOptions.from_config(config)
    share = RankShare.from_config(config)
    train = _split_batches(options, "train")
    sampler: ResumableBatchSampler
    if share.world_size > 1:
        sampler = DistributedBatchSampler(
            train.labels,
            options.batch_size,
            share,
            seed=options.seed,
            balance=options.balance,
        )
    else:
        sampler = ResumableBatchSampler(
            train.labels, options.batch_size, seed=options.seed, balance=options.balance
        )
    return _loader(train, sampler, options), _ordered_loader(options, "valid")


def get_test_loader(config: Mapping[str, Any]) -> DataLoader:
    """The test split's loader, fixed order; DataError if the split is missing."""
    return _ordered_loader(DataOptions.from_config(config), "test")


def get_split_loader(config: Mapping[str, Any], split: str) -> DataLoader:
    """A fixed-order loader over any split (``train``, ``valid`` or ``test``)."""
    return _ordered_loader(DataOptions.from_config(config), split)


def resumable_sampler(train_loader: DataLoader) -> ResumableBatchSampler:
    """The sampler of a train loader from :func:`get_dataloaders` (distributed too)."""
    sampler = train_loader.batch_sampler
    if not isinstance(sampler, ResumableBatchSampler):
        raise TypeError("resumable_sampler: loader was not made by get_dataloaders")
    return sampler


def _split_batches(options: DataOptions, split: str) -> PCAMBatches:
    limit_heap_growth()
    if not options.data_path.is_dir():
        raise DataError(f"{options.data_path}: data directory not found")
    x_path, y_path = split_paths(options.data_path, split)
    return PCAMBatches(
        SplitFiles.open(x_path, y_path),
        filter_data=options.filter_data,
        in_memory=options.in_memory,
        uint8_batches=options.uint8_batches,
    )


def _ordered_loader(options: DataOptions, split: str) -> DataLoader:
    batches = _split_batches(options, split)
    sampler = BatchSampler(
        SequentialSampler(batches), options.batch_size, drop_last=False
    )
    return _loader(batches, sampler, options)


def _loader(
    batches: PCAMBatches, batch_sampler: Any, options: DataOptions
) -> DataLoader:
    return DataLoader(
        batches,
        batch_sampler=batch_sampler,
        num_workers=options.num_workers,
        pin_memory=options.pin_memory,
        collate_fn=pass_batch,
    )


def split_channel_statistics(
    data_dir: Path | str, split: str = "train"
) -> tuple[list[float], list[float]]:
    """Per-channel (mean, std) in [0, 1] of ``split``'s pixels (sampled, ~0.1 s)."""
    x_path, y_path = split_paths(Path(data_dir), split)
    files = SplitFiles.open(x_path, y_path)
    images = H5Images(files.x_path)
    try:
        return channel_statistics(images, files.num_samples)
    finally:
        images.close()

"""Loaders of PCAM batches: one entry point for every ``split_location``, the same
batches in the same order from each; :func:`get_dataloaders` is the course's interface.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch.utils.data import DataLoader

from ml_core.contract import ConfigError, SectionReader
from ml_core.data._batches import DeviceLoader, DeviceSplit, PCAMBatches
from ml_core.data._config import DataConfig, read_data_config, read_data_section
from ml_core.data._h5files import SplitFiles
from ml_core.data._layout import split_paths
from ml_core.data._sampler import EpochBatchSampler

__all__ = [
    "get_dataloaders",
    "get_split_loader",
    "get_test_loader",
    "make_loaders",
    "make_split_loader",
    "read_data_config",
    "resumable_sampler",
]

Loader = DataLoader | DeviceLoader
CPU = torch.device("cpu")


def make_loaders(
    config: DataConfig,
    *,
    seed: int,
    device: torch.device = CPU,
    rank: int = 0,
    world_size: int = 1,
    uint8: bool = True,
    memory_budget: int | None = None,
) -> tuple[Loader, Loader]:
    """(train_loader, val_loader) for training on ``device`` (the train loader gives
    rank ``rank``'s share of each global batch); ``memory_budget`` (bytes) replaces the
    device's free memory (tests force the device split's host fallback with it)."""
    train = _place(config, "train", device, uint8, memory_budget)
    sampler = EpochBatchSampler(
        train.labels,
        config.batch_size,
        seed=seed,
        balance=config.balance,
        rank=rank,
        world_size=world_size,
        device=train.device,
    )
    valid = make_split_loader(
        config, "valid", device=device, uint8=uint8, memory_budget=memory_budget
    )
    return _loader(train, sampler, config, device), valid


def make_split_loader(
    config: DataConfig,
    split: str,
    *,
    device: torch.device = CPU,
    uint8: bool = True,
    memory_budget: int | None = None,
) -> Loader:
    """A fixed-order loader over ``split`` (``train``, ``valid`` or ``test``)."""
    placed = _place(config, split, device, uint8, memory_budget)
    order = torch.arange(len(placed), device=placed.device).split(config.batch_size)
    return _loader(placed, order, config, device)


def get_dataloaders(config: Mapping[str, Any]) -> tuple[DataLoader, DataLoader]:
    """The course's ``get_dataloaders(config)``: (train, val) float32 [0, 1] batches from
    ``config["data"]`` (plus ``uint8_batches``), ``seed`` and ``distributed``."""
    data, uint8 = _course_data_config(config)
    rank, world_size = _distributed(config)
    return make_loaders(  # type: ignore[return-value]
        data,
        seed=_seed(config),
        rank=rank,
        world_size=world_size,
        uint8=uint8,
    )


def get_split_loader(config: Mapping[str, Any], split: str) -> DataLoader:
    """Course-dict version of :func:`make_split_loader` (``train``/``valid``/``test``)."""
    data, uint8 = _course_data_config(config)
    return make_split_loader(data, split, uint8=uint8)  # type: ignore[return-value]


def get_test_loader(config: Mapping[str, Any]) -> DataLoader:
    """The test split's loader, fixed order; DataError if the split is missing."""
    return get_split_loader(config, "test")


def resumable_sampler(train_loader: Loader) -> EpochBatchSampler:
    """The sampler of a train loader from :func:`make_loaders` (any split location)."""
    sampler = train_loader.batch_sampler
    if not isinstance(sampler, EpochBatchSampler):
        raise TypeError(
            "resumable_sampler: the loader is not a make_loaders train loader"
        )
    return sampler


def _place(
    config: DataConfig,
    split: str,
    device: torch.device,
    uint8: bool,
    memory_budget: int | None,
) -> PCAMBatches | DeviceSplit:
    files = SplitFiles.open(*split_paths(config.directory(), split))
    if config.split_location == "device":
        return DeviceSplit.load(files, device, config.filter_data, memory_budget)
    return PCAMBatches(files, config, uint8_batches=uint8)


def _loader(
    placed: PCAMBatches | DeviceSplit,
    batch_sampler: Any,
    config: DataConfig,
    device: torch.device,
) -> Loader:
    if isinstance(placed, DeviceSplit):
        return DeviceLoader(placed, batch_sampler)
    return DataLoader(
        placed,
        batch_sampler=batch_sampler,
        num_workers=config.num_workers,
        pin_memory=device.type == "cuda",
        collate_fn=tuple,  # __getitems__ returns the batch already collated
    )


def _course_data_config(config: Mapping[str, Any]) -> tuple[DataConfig, bool]:
    section = config.get("data")
    if not isinstance(section, Mapping):
        raise ConfigError("data: missing section (expected a mapping)")
    if section.get("data_path") is None:
        # The trainer falls back to the built-in data; a course script never should.
        raise ConfigError("data.data_path: required (the directory of the PCAM files)")
    reader = SectionReader(section, "data.")
    uint8 = reader.boolean("uint8_batches", default=False)
    return read_data_section(reader), uint8


def _seed(config: Mapping[str, Any]) -> int:
    seed = config.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed: must be a non-negative integer, got {seed!r}")
    return seed


def _distributed(config: Mapping[str, Any]) -> tuple[int, int]:
    section = config.get("distributed")
    if section is None:
        return 0, 1
    if not isinstance(section, Mapping) or set(section) != {"rank", "world_size"}:
        raise ConfigError(
            "distributed: expected a mapping with exactly rank and world_size, "
            f"got {section!r}"
        )
    reader = SectionReader(section, "distributed.")
    world_size = reader.integer("world_size", None, minimum=1)
    rank = reader.integer("rank", None, minimum=0)
    if rank >= world_size:
        reader.fail("rank", f"{rank} is not a rank of world_size {world_size}")
    return rank, world_size

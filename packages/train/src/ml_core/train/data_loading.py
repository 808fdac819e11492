"""The trainer's loaders: host loaders by default, device-resident ones on request.

``data.device_resident`` keeps each split as uint8 on the training device (falling back to
pinned host memory with a prefetch thread when it does not fit); both kinds share the
resumable, seed-and-epoch-ordered sampler, so the training loop cannot tell them apart.
"""

from __future__ import annotations

from typing import Any

import torch

from ml_core.data import (
    get_dataloaders,
    get_device_dataloaders,
    get_device_split_loader,
    get_split_loader,
)
from ml_core.train.config import TrainConfig


def train_and_val_loaders(
    config: TrainConfig, loader_config: dict[str, Any], device: torch.device
) -> tuple[Any, Any]:
    """(train_loader, val_loader) for ``loader_config`` as ``config.data`` asks."""
    if config.data.device_resident:
        return get_device_dataloaders(loader_config, device)
    return get_dataloaders(loader_config)


def split_loader(
    config: TrainConfig,
    loader_config: dict[str, Any],
    split: str,
    device: torch.device,
) -> Any:
    """A fixed-order loader over ``split`` (``valid`` or ``test``)."""
    if config.data.device_resident:
        return get_device_split_loader(loader_config, split, device)
    return get_split_loader(loader_config, split)

"""Optimizer and per-epoch learning-rate schedule from the ``training:`` config."""

from __future__ import annotations

import torch
from torch import nn

from ml_core.train.config import TrainingConfig


def build_optimizer(
    model: nn.Module, training: TrainingConfig
) -> torch.optim.Optimizer:
    """adam, adamw or sgd (with momentum) with the configured lr and weight decay."""
    parameters = model.parameters()
    lr, decay = training.learning_rate, training.weight_decay
    if training.optimizer == "sgd":
        return torch.optim.SGD(
            parameters, lr=lr, momentum=training.momentum, weight_decay=decay
        )
    if training.optimizer == "adamw":
        return torch.optim.AdamW(parameters, lr=lr, weight_decay=decay)
    return torch.optim.Adam(parameters, lr=lr, weight_decay=decay)


def build_scheduler(
    optimizer: torch.optim.Optimizer, training: TrainingConfig
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """The schedule, stepped once per epoch; None for ``lr_schedule: none``."""
    if training.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=training.epochs
        )
    if training.lr_schedule == "step":
        return torch.optim.lr_scheduler.StepLR(
            optimizer, step_size=training.lr_step_size, gamma=training.lr_gamma
        )
    return None

"""Optimizer and learning-rate schedule (warm-up, then per epoch) from ``training:``."""

from __future__ import annotations

import math

import torch
from torch import nn

from ml_core.train._config import TrainingConfig

# One per name in the config's OPTIMIZER_BYTES_PER_PARAMETER.
_CONSTRUCTORS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}


def build_optimizer(
    model: nn.Module, training: TrainingConfig
) -> torch.optim.Optimizer:
    """adam, adamw or sgd (with momentum) with the configured lr and weight decay."""
    constructor = _CONSTRUCTORS[training.optimizer]
    extra = {"momentum": training.momentum} if training.optimizer == "sgd" else {}
    return constructor(
        model.parameters(),
        lr=training.learning_rate,
        weight_decay=training.weight_decay,
        **extra,
    )


def scheduled_lr(training: TrainingConfig, epoch: int, steps_done: int) -> float:
    """The rate of the next step (``epoch`` 1-based, ``steps_done`` in the run so far):
    computed, not stored, so a resume restores nothing."""
    lr = training.learning_rate
    if training.lr_schedule == "cosine":
        lr *= 0.5 * (1 + math.cos(math.pi * (epoch - 1) / training.epochs))
    elif training.lr_schedule == "step":
        lr *= training.lr_gamma ** ((epoch - 1) // training.lr_step_size)
    if steps_done < training.warmup_steps:
        lr *= (steps_done + 1) / training.warmup_steps
    return lr

"""Parameter counting, per layer and in total."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn


@dataclass(frozen=True)
class LayerParameters:
    """Parameters of one named tensor: its shape and element count."""

    name: str
    shape: tuple[int, ...]
    count: int


def parameter_table(model: nn.Module) -> list[LayerParameters]:
    """One row per trainable tensor, in registration order."""
    return [
        LayerParameters(name, tuple(param.shape), param.numel())
        for name, param in model.named_parameters()
        if param.requires_grad
    ]


def count_parameters(model: nn.Module, *, trainable_only: bool = True) -> int:
    """Total number of (trainable) parameters."""
    return sum(
        param.numel()
        for param in model.parameters()
        if param.requires_grad or not trainable_only
    )

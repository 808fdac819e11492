"""The course's baseline: a multi-layer perceptron over flattened image patches."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ml_core.models.shapes import (
    flat_input_size,
    validate_dropout_rate,
    validate_input_shape,
    validate_positive_ints,
)

__all__ = ["MLP"]


class MLP(nn.Module):
    """Flatten -> [Linear -> ReLU -> Dropout] per hidden layer -> Linear (logits).

    ``hidden_units=[]`` gives a plain linear classifier. For 3 x 96 x 96 input the
    course's ``[64, 32]`` has 1,771,682 parameters (27,648 inputs x 64 dominate).
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        hidden_units: Sequence[int] = (64, 32),
        num_classes: int = 2,
        dropout_rate: float = 0.2,
    ) -> None:
        super().__init__()
        self.input_shape = validate_input_shape(input_shape)
        self.hidden_units = validate_positive_ints("hidden_units", hidden_units)
        if isinstance(num_classes, bool) or not isinstance(num_classes, int):
            raise TypeError(f"num_classes must be an integer, got {num_classes!r}")
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {num_classes!r}")
        self.num_classes = num_classes
        self.dropout_rate = validate_dropout_rate(dropout_rate)

        layers: list[nn.Module] = [nn.Flatten()]
        width_in = flat_input_size(self.input_shape)
        for width_out in self.hidden_units:
            layers += [nn.Linear(width_in, width_out), nn.ReLU()]
            layers.append(nn.Dropout(self.dropout_rate))
            width_in = width_out
        layers.append(nn.Linear(width_in, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(
                f"MLP input: expected per-sample shape {self.input_shape}, "
                f"got {tuple(x.shape[1:])} (batch shape {tuple(x.shape)})"
            )
        return self.layers(x)

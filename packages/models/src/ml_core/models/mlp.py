"""The course's baseline: a multi-layer perceptron over flattened image patches."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ml_core.models.shapes import flat_input_size, validate_input_shape

__all__ = ["MLP"]


def _validate_hidden_units(hidden_units: Sequence[int]) -> tuple[int, ...]:
    units = tuple(hidden_units)
    for position, width in enumerate(units):
        if isinstance(width, bool) or not isinstance(width, int) or width <= 0:
            raise ValueError(
                f"hidden_units[{position}] must be a positive integer, got {width!r}"
            )
    return units


def _validate_dropout(dropout_rate: float) -> float:
    if isinstance(dropout_rate, bool) or not isinstance(dropout_rate, int | float):
        raise TypeError(f"dropout_rate must be a number, got {dropout_rate!r}")
    if not 0.0 <= dropout_rate < 1.0:
        raise ValueError(f"dropout_rate must be in [0, 1), got {dropout_rate!r}")
    return float(dropout_rate)


def _validate_num_classes(num_classes: int) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int):
        raise TypeError(f"num_classes must be an integer, got {num_classes!r}")
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes!r}")
    return num_classes


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
        self.hidden_units = _validate_hidden_units(hidden_units)
        self.num_classes = _validate_num_classes(num_classes)
        self.dropout_rate = _validate_dropout(dropout_rate)

        layers: list[nn.Module] = [nn.Flatten()]
        width_in = flat_input_size(self.input_shape)
        for width_out in self.hidden_units:
            layers += [
                nn.Linear(width_in, width_out),
                nn.ReLU(),
                nn.Dropout(self.dropout_rate),
            ]
            width_in = width_out
        layers.append(nn.Linear(width_in, self.num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(
                f"MLP input: expected per-sample shape {self.input_shape}, "
                f"got {tuple(x.shape[1:])} (batch shape {tuple(x.shape)})"
            )
        return self.layers(x)

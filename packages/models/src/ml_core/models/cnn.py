"""A small convolutional network for PCAM: the step after the course's MLP.

The default widths give 97,938 parameters for 3 x 96 x 96 input (the MLP has 1,771,682,
almost all in its first layer), so it trains at a useful speed on a laptop CPU.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ml_core.models.shapes import (
    validate_dropout_rate,
    validate_input_shape,
    validate_positive_ints,
)


class SmallCNN(nn.Module):
    """``len(widths)`` conv stages, global average pool, dropout, linear (logits)."""

    def __init__(
        self,
        input_shape: Sequence[int],
        widths: Sequence[int] = (16, 32, 64, 128),
        num_classes: int = 2,
        dropout_rate: float = 0.2,
    ) -> None:
        super().__init__()
        channels, height, width = validate_input_shape(input_shape)
        self.widths = validate_positive_ints("widths", widths)
        if not self.widths:
            raise ValueError("widths must be positive integers, got []")
        if min(height, width) < 2 ** len(self.widths):
            raise ValueError(
                f"{len(self.widths)} pooling stages need inputs of at least "
                f"{2 ** len(self.widths)} px, got {height} x {width}"
            )
        dropout_rate = validate_dropout_rate(dropout_rate)
        stages: list[nn.Module] = []
        width_in = channels
        for width_out in self.widths:
            stages += [
                nn.Sequential(
                    # No conv bias: BatchNorm's shift does its job.
                    nn.Conv2d(width_in, width_out, 3, padding=1, bias=False),
                    nn.BatchNorm2d(width_out),
                    nn.ReLU(inplace=True),
                ),
                nn.MaxPool2d(2),
            ]
            width_in = width_out
        self.features = nn.Sequential(*stages)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Dropout(dropout_rate),
            nn.Linear(width_in, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

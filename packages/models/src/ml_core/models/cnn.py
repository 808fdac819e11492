"""A small convolutional network for PCAM: the step after the course's MLP.

Stages of conv(3x3)-BatchNorm-ReLU and 2x2 max-pooling (each halves the patch); global
average pooling and one linear layer on top. Width ``w`` of a stage means ``w``
channels. The default widths (16, 32, 64, 128) give 97,938 parameters for 3 x 96 x 96
input and train at a useful speed on a laptop CPU (the MLP has 1,771,682, almost all
in its first layer).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ml_core.models.shapes import validate_input_shape

DEFAULT_WIDTHS = (16, 32, 64, 128)


class SmallCNN(nn.Module):
    """``len(widths)`` conv stages, global average pool, dropout, linear (logits).

    Parameters for 3 x 96 x 96 input with the default widths (16, 32, 64, 128):
    97,938.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        widths: Sequence[int] = DEFAULT_WIDTHS,
        num_classes: int = 2,
        dropout_rate: float = 0.2,
    ) -> None:
        super().__init__()
        channels, height, width = validate_input_shape(input_shape)
        self.widths = tuple(widths)
        if not self.widths or any(
            isinstance(w, bool) or not isinstance(w, int) or w <= 0 for w in self.widths
        ):
            raise ValueError(f"widths must be positive integers, got {list(widths)!r}")
        if min(height, width) < 2 ** len(self.widths):
            raise ValueError(
                f"{len(self.widths)} pooling stages need inputs of at least "
                f"{2 ** len(self.widths)} px, got {height} x {width}"
            )
        if not 0.0 <= dropout_rate < 1.0:
            raise ValueError(f"dropout_rate must be in [0, 1), got {dropout_rate!r}")
        stages: list[nn.Module] = []
        width_in = channels
        for width_out in self.widths:
            stages += [_conv_bn_relu(width_in, width_out), nn.MaxPool2d(2)]
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


def _conv_bn_relu(width_in: int, width_out: int) -> nn.Sequential:
    # No conv bias: BatchNorm's shift does its job.
    return nn.Sequential(
        nn.Conv2d(width_in, width_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(width_out),
        nn.ReLU(inplace=True),
    )

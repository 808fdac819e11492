"""torchvision's ResNets for PCAM: random init, two output classes; pretrained weights
come only from a file on disk (``model.weights``), never fetched."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from ml_core.models.shapes import validate_input_shape

RESNETS = ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")


def build_resnet(
    name: str, input_shape: Sequence[int], num_classes: int = 2
) -> nn.Module:
    """torchvision's ``name`` (randomly initialised) with ``num_classes`` outputs."""
    # Imported here: torchvision takes ~4 s to import, which every ml-train start (and
    # every ml-slurm check) would pay for an MLP or CNN run.
    from torchvision import models

    channels, _, _ = validate_input_shape(input_shape)
    model = getattr(models, name)(weights=None, num_classes=num_classes)
    if channels != 3:
        model.conv1 = nn.Conv2d(channels, 64, 7, stride=2, padding=3, bias=False)
    return model

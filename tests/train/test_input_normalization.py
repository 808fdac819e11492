"""On-device conversion: uint8 -> [0, 1], then optional centring (``data.normalize``)."""

from __future__ import annotations

import torch

from ml_core.train.loop import to_device

CPU = torch.device("cpu")


def test_uint8_becomes_unit_interval_without_normalize() -> None:
    images = torch.tensor([0, 51, 255], dtype=torch.uint8).reshape(1, 3, 1, 1)
    converted, labels = to_device(images, torch.tensor([1]), CPU)
    assert converted.dtype == torch.float32
    assert torch.allclose(converted.flatten(), torch.tensor([0.0, 0.2, 1.0]))
    assert labels.tolist() == [1]


def test_normalize_centres_pixels() -> None:
    images = torch.tensor([0, 51, 255], dtype=torch.uint8).reshape(1, 3, 1, 1)
    converted, _ = to_device(images, torch.tensor([0]), CPU, normalize=True)
    assert torch.allclose(converted.flatten(), torch.tensor([-2.0, -1.2, 2.0]))


def test_float_batches_are_normalised_too() -> None:
    images = torch.full((2, 3, 4, 4), 0.5)
    converted, _ = to_device(images, torch.tensor([0, 1]), CPU, normalize=True)
    assert torch.equal(converted, torch.zeros_like(images))

"""On-device conversion: uint8 -> [0, 1], then per-channel standardisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ml_core.data import split_channel_statistics
from ml_core.train._loop import InputNormalization, to_device

CPU = torch.device("cpu")


def test_uint8_becomes_unit_interval_without_normalization() -> None:
    images = torch.tensor([0, 51, 255], dtype=torch.uint8).reshape(1, 3, 1, 1)
    converted, labels = to_device(images, torch.tensor([1]), CPU)
    assert converted.dtype == torch.float32
    # x / 255 in float32: 51 / 255 = 0.2 to within one float32 rounding.
    assert torch.allclose(converted.flatten(), torch.tensor([0.0, 0.2, 1.0]))
    assert labels.tolist() == [1]


def test_each_channel_is_standardised_with_its_own_statistics() -> None:
    images = torch.tensor([0, 51, 255], dtype=torch.uint8).reshape(1, 3, 1, 1)
    normalization = InputNormalization([0.5, 0.2, 0.5], [0.25, 0.1, 0.5])
    converted, _ = to_device(
        images, torch.tensor([0]), CPU, normalization=normalization
    )
    # (0 - 0.5) / 0.25, (0.2 - 0.2) / 0.1, (1 - 0.5) / 0.5, each a few float32 ulps off.
    assert torch.allclose(
        converted.flatten(), torch.tensor([-2.0, 0.0, 1.0]), atol=1e-6
    )


def test_float_batches_are_standardised_too() -> None:
    images = torch.full((2, 3, 4, 4), 0.5)
    normalization = InputNormalization([0.5] * 3, [0.25] * 3)
    converted, _ = to_device(
        images, torch.tensor([0, 1]), CPU, normalization=normalization
    )
    assert torch.equal(converted, torch.zeros_like(images))


@pytest.mark.parametrize("count", [50, 200])
def test_split_statistics_match_numpy_over_a_small_split(
    make_pcam_split, patches, tmp_path, count
) -> None:
    images = patches(count, seed=4)
    make_pcam_split(tmp_path, "train", images, np.arange(count) % 2)
    mean, std = split_channel_statistics(tmp_path)
    # Under 4,096 patches the 64 runs of 64 rows overlap: every row counts once. The
    # moments come from integer histograms, so only the float64 sums over 256 levels
    # and numpy's pairwise sums round: they agree to ~1e-12.
    pixels = images.reshape(-1, 3) / 255
    np.testing.assert_allclose(mean, pixels.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(std, pixels.std(axis=0), rtol=1e-9)

"""Augmentation by the square's symmetries (plus jitter) and test-time averaging."""

from __future__ import annotations

import pytest
import torch

from ml_core.models import build_model
from ml_core.train._config import AugmentConfig
from ml_core.train._symmetries import (
    SYMMETRIES,
    augment,
    batch_generator,
    symmetry,
    tta_probabilities,
)

CPU = torch.device("cpu")


def _images(count: int = 16) -> torch.Tensor:
    return torch.rand(count, 3, 8, 8, generator=torch.Generator().manual_seed(0))


def test_the_eight_symmetries_are_distinct_and_form_the_square_group() -> None:
    image = _images(1)
    views = [symmetry(image, index) for index in range(SYMMETRIES)]
    assert len({view.numpy().tobytes() for view in views}) == SYMMETRIES
    for index in range(SYMMETRIES):
        # Every view of a view is a view: the set is closed, as a group must be.
        again = {symmetry(views[index], j).numpy().tobytes() for j in range(SYMMETRIES)}
        assert again == {view.numpy().tobytes() for view in views}


def test_symmetries_only_move_pixels() -> None:
    images = _images()
    moved = augment(
        images, AugmentConfig(symmetries=True), batch_generator(1, 2, 3, 0, 0, CPU)
    )
    assert not torch.equal(moved, images)
    for before, after in zip(images, moved, strict=True):
        # The same multiset of values, per channel: a permutation of the pixels.
        assert torch.equal(
            before.flatten(1).sort().values, after.flatten(1).sort().values
        )
        assert any(torch.equal(after, symmetry(before[None], k)[0]) for k in range(8))


def test_each_sample_draws_its_own_view() -> None:
    image = _images(1).expand(64, -1, -1, -1)
    moved = augment(
        image, AugmentConfig(symmetries=True), batch_generator(0, 1, 0, 0, 0, CPU)
    )
    assert len({view.numpy().tobytes() for view in moved}) == SYMMETRIES


def test_draws_are_a_function_of_the_position_in_the_run() -> None:
    config = AugmentConfig(symmetries=True, brightness=0.2, contrast=0.2, hue=0.1)
    images = _images()
    first = augment(images, config, batch_generator(7, 2, 5, 1, 0, CPU))
    again = augment(images, config, batch_generator(7, 2, 5, 1, 0, CPU))
    assert torch.equal(first, again)
    for other in ((7, 2, 6, 1, 0), (7, 3, 5, 1, 0), (7, 2, 5, 0, 0), (7, 2, 5, 1, 1)):
        assert not torch.equal(
            first, augment(images, config, batch_generator(*other, CPU))
        )


def test_jitter_stays_mild_and_in_range() -> None:
    images = _images(256)
    config = AugmentConfig(brightness=0.1, contrast=0.1, hue=0.05)
    jittered = augment(images, config, batch_generator(0, 0, 0, 0, 0, CPU))
    assert float(jittered.min()) >= 0.0
    assert float(jittered.max()) <= 1.0
    # +-10 % brightness and contrast and +-9 degrees of hue move a pixel by well
    # under 0.3 on [0, 1]; a wrong axis or sign in the colour maths moves far more.
    assert float((jittered - images).abs().max()) < 0.3
    hue_only = augment(
        images, AugmentConfig(hue=0.05), batch_generator(0, 0, 0, 0, 0, CPU)
    )
    # A hue turn keeps the luma Y = 0.299 R + 0.587 G + 0.114 B (before clipping).
    luma = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    inside = (hue_only > 0) & (hue_only < 1)
    mask = inside.all(dim=1, keepdim=True)
    difference = ((hue_only - images) * luma).sum(dim=1, keepdim=True)[mask]
    assert float(difference.abs().max()) < 1e-5  # float32 rounding of a 3x3 product


def test_tta_is_invariant_to_rotating_or_mirroring_the_input() -> None:
    torch.manual_seed(0)
    model = build_model({"name": "cnn", "widths": [4, 8]}, [3, 8, 8]).eval()
    images = _images(6)
    with torch.no_grad():
        reference = tta_probabilities(model, images)
        for index in range(1, SYMMETRIES):
            turned = tta_probabilities(model, symmetry(images, index))
            # The same eight views summed in another order: float32 rounding only.
            torch.testing.assert_close(turned, reference, rtol=1e-6, atol=1e-7)
        plain = torch.softmax(model(images), dim=1)[:, 1]
    assert not torch.allclose(plain, reference)  # a CNN alone is not invariant


@pytest.mark.parametrize("key", ["brightness", "contrast", "hue"])
def test_jitter_strength_is_a_config_error_above_half(key: str) -> None:
    from ml_core.contract import ConfigError
    from ml_core.train import build_config

    with pytest.raises(
        ConfigError, match=rf"augment\.{key}: expected a number in \[0, 0\.5\]"
    ):
        build_config(
            {"augment": {key: 0.9}}, source="x.yaml", default_experiment_name="a"
        )

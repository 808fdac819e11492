"""The eight symmetries of the square (a patch means the same rotated or mirrored):
test-time averaging, and augmentation with colour jitter drawn from (seed, epoch,
step, batch, rank) alone, so a resumed run repeats an uninterrupted one."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from ml_core.train._config import AugmentConfig

SYMMETRIES = 8
# Hue turns the chroma plane of YIQ by an angle: RGB <-> YIQ (NTSC) matrices.
_RGB_TO_YIQ = torch.tensor(
    [[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]]
)
_YIQ_TO_RGB = torch.linalg.inv(_RGB_TO_YIQ)


def symmetry(images: torch.Tensor, index: int) -> torch.Tensor:
    """Symmetry ``index`` (0..7) of (B, C, H, W) square images: rotate, then transpose."""
    turned = torch.rot90(images, index % 4, dims=(2, 3))
    return turned.transpose(2, 3) if index >= 4 else turned


def batch_generator(
    seed: int, epoch: int, step: int, batch: int, rank: int, device: torch.device
) -> torch.Generator:
    """A generator on ``device`` that is a function of the batch's place in the run."""
    state = np.random.SeedSequence([seed, epoch, step, batch, rank, 0xA06])
    value = int(state.generate_state(1, dtype=np.uint64)[0]) & (2**63 - 1)
    return torch.Generator(device=device).manual_seed(value)


def augment(
    images: torch.Tensor, config: AugmentConfig, generator: torch.Generator
) -> torch.Tensor:
    """``images`` (B, 3, H, W) float in [0, 1], each transformed by its own draw."""
    count, device = images.shape[0], images.device
    if config.symmetries:
        choice = torch.randint(
            0, SYMMETRIES, (count,), generator=generator, device=device
        )
        moved = torch.empty_like(images)
        for index in range(SYMMETRIES):
            picked = choice == index
            moved[picked] = symmetry(images[picked], index)
        images = moved

    def factors(strength: float) -> torch.Tensor:
        draw = torch.rand(count, generator=generator, device=device)
        return (1 + strength * (2 * draw - 1)).view(count, 1, 1, 1)

    if config.brightness:
        images = images * factors(config.brightness)
    if config.contrast:
        mean = images.mean(dim=(1, 2, 3), keepdim=True)
        images = (images - mean) * factors(config.contrast) + mean
    if config.hue:
        images = _turn_hue(images, config.hue, generator)
    return images.clamp(0.0, 1.0)


def _turn_hue(
    images: torch.Tensor, strength: float, generator: torch.Generator
) -> torch.Tensor:
    count, device = images.shape[0], images.device
    draw = torch.rand(count, generator=generator, device=device)
    angle = math.pi * strength * (2 * draw - 1)
    cos, sin = torch.cos(angle), torch.sin(angle)
    turn = torch.zeros(count, 3, 3, device=device)
    turn[:, 0, 0] = 1
    turn[:, 1, 1], turn[:, 1, 2], turn[:, 2, 1], turn[:, 2, 2] = cos, -sin, sin, cos
    matrix = _YIQ_TO_RGB.to(device) @ turn @ _RGB_TO_YIQ.to(device)  # (B, 3, 3)
    return torch.einsum("bij,bjhw->bihw", matrix, images)


def tta_probabilities(
    model: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor
) -> torch.Tensor:
    """The positive-class probability averaged over the eight views of each image."""
    total = torch.zeros(images.shape[0], device=images.device)
    for index in range(SYMMETRIES):
        logits = model(symmetry(images, index)).float()
        total += torch.softmax(logits, dim=1)[:, 1]
    return total / SYMMETRIES

"""Input-shape checks and the dimension maths the course asks for."""

from __future__ import annotations

import math
from collections.abc import Sequence


def validate_input_shape(input_shape: Sequence[int]) -> tuple[int, int, int]:
    """Return ``input_shape`` as a (channels, height, width) tuple, or raise ValueError."""
    shape = tuple(input_shape)
    if len(shape) != 3:
        raise ValueError(
            f"input_shape must have 3 entries (channels, height, width), got {shape!r}"
        )
    for position, size in enumerate(shape):
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise ValueError(
                f"input_shape[{position}] must be a positive integer, got {size!r}"
            )
    return shape  # type: ignore[return-value]


def flat_input_size(input_shape: Sequence[int]) -> int:
    """Number of inputs after flattening one sample: 3 x 96 x 96 = 27,648 for PCAM."""
    return math.prod(validate_input_shape(input_shape))

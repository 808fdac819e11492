"""Argument checks the models share, and the dimension maths the course asks for."""

from __future__ import annotations

import math
from collections.abc import Sequence


def validate_positive_ints(name: str, values: Sequence[int]) -> tuple[int, ...]:
    """Return ``values`` as a tuple, or raise ValueError naming the first bad entry."""
    entries = tuple(values)
    for position, value in enumerate(entries):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(
                f"{name}[{position}] must be a positive integer, got {value!r}"
            )
    return entries


def validate_input_shape(input_shape: Sequence[int]) -> tuple[int, int, int]:
    """Return ``input_shape`` as a (channels, height, width) tuple, or raise ValueError."""
    shape = tuple(input_shape)
    if len(shape) != 3:
        raise ValueError(
            f"input_shape must have 3 entries (channels, height, width), got {shape!r}"
        )
    return validate_positive_ints("input_shape", shape)  # type: ignore[return-value]


def validate_dropout_rate(dropout_rate: float) -> float:
    if isinstance(dropout_rate, bool) or not isinstance(dropout_rate, int | float):
        raise TypeError(f"dropout_rate must be a number, got {dropout_rate!r}")
    if not 0.0 <= dropout_rate < 1.0:
        raise ValueError(f"dropout_rate must be in [0, 1), got {dropout_rate!r}")
    return float(dropout_rate)


def flat_input_size(input_shape: Sequence[int]) -> int:
    """Number of inputs after flattening one sample: 3 x 96 x 96 = 27,648 for PCAM."""
    return math.prod(validate_input_shape(input_shape))

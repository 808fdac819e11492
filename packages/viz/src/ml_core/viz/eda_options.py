"""Options of ``ml-viz eda``, validated where they enter.

Kept apart from :mod:`ml_core.viz.eda`, which imports ``ml_core.data`` and with it
torch (seconds of start-up): the CLI should only pay for that when it runs ``eda``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ml_core.viz.errors import VizInputError


@dataclass(frozen=True)
class EdaOptions:
    """How much to scan and how to run the sampler check."""

    batch_size: int = 32
    seed: int = 0
    sampler_batches: int = 200
    max_patches: int | None = None
    examples_per_class: int = 8

    def __post_init__(self) -> None:
        for name in ("batch_size", "sampler_batches", "examples_per_class"):
            if getattr(self, name) < 1:
                raise VizInputError(
                    f"{name}: must be at least 1, got {getattr(self, name)}"
                )
        if self.seed < 0:
            raise VizInputError(f"seed: must be non-negative, got {self.seed}")
        if self.max_patches is not None and self.max_patches < 1:
            raise VizInputError(
                f"max_patches: must be at least 1, got {self.max_patches}"
            )

"""Diagnostics: a checksum of the model's parameters after every step, one file per rank.

Set ``ML_CORE_PARAMETER_TRACE=DIR`` and each process appends ``epoch step sha256`` to
``DIR/rank<RANK>.txt`` after every optimizer step. Data-parallel ranks hold the same
parameters at every step, so their files must be identical; a difference names the
first step where they diverged. Hashing every step costs time: not for real runs.
"""

from __future__ import annotations

import os
from pathlib import Path

from torch import nn

from ml_core.train._checkpoint import payload_checksum

ENVIRONMENT_VARIABLE = "ML_CORE_PARAMETER_TRACE"


class ParameterTrace:
    """Appends one checksum line per step to this rank's trace file."""

    def __init__(self, directory: Path, rank: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"rank{rank}.txt"

    @classmethod
    def from_environment(cls, rank: int) -> ParameterTrace | None:
        """The trace ``$ML_CORE_PARAMETER_TRACE`` asks for, or None when unset."""
        directory = os.environ.get(ENVIRONMENT_VARIABLE)
        return cls(Path(directory), rank) if directory else None

    def record(self, epoch: int, step: int, model: nn.Module) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            checksum = payload_checksum(dict(model.named_parameters()))
            handle.write(f"{epoch} {step} {checksum}\n")

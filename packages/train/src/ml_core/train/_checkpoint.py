"""Checkpoint files: plain dicts of tensors and primitives, written atomically.

They load with ``torch.load(weights_only=True)``, so opening one never runs code.
``last.pt`` holds everything needed to continue at the exact step; ``best.pt`` holds
the weights of the best epoch so far.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch

from ml_core.contract import atomic_write

CHECKPOINT_FORMAT = 1


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, unreadable or not one of ours."""


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` (plus the format version) to ``path`` atomically."""
    record = {"format": CHECKPOINT_FORMAT, **payload}
    atomic_write(Path(path), lambda handle: torch.save(record, handle))


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` onto the CPU."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise CheckpointError(
            f"{path}: cannot load checkpoint ({first_line})"
        ) from None
    if not isinstance(record, dict) or record.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path}: not an ml_core checkpoint (format {CHECKPOINT_FORMAT} expected)"
        )
    return record

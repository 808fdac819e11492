"""Checkpoint files: plain dicts of tensors and primitives, written atomically, read
with ``torch.load(weights_only=True)`` (opening one never runs code)."""

from __future__ import annotations

import errno
import hashlib
import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from ml_core.contract import atomic_write

CHECKPOINT_FORMAT = 2
# Errors that mean the disk (or a file-size limit) is full; nothing else to fix there.
DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, unreadable, corrupted or not one of ours."""


class DiskFullError(OSError):
    """A write failed for lack of space; the file it replaces is untouched."""


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload``, its format version and checksum atomically (a full disk:
    :class:`DiskFullError`, the previous file stays)."""
    record = {"format": CHECKPOINT_FORMAT, **payload}
    record["checksum"] = payload_checksum(record)
    try:
        atomic_write(Path(path), lambda handle: torch.save(record, handle))
    except OSError as error:
        if error.errno in DISK_FULL_ERRNOS:
            raise DiskFullError(error.errno, f"disk full at {path}") from None
        raise
    except RuntimeError as error:
        # torch's zip writer reports a short write as "[enforce fail at
        # inline_container.cc...] unexpected pos", a RuntimeError, not an OSError.
        if "inline_container" not in str(error):
            raise
        raise DiskFullError(errno.ENOSPC, f"disk full at {path}") from None


def load_checkpoint(path: Path, required: Iterable[str] = ()) -> dict[str, Any]:
    """Read a checkpoint onto the CPU; :class:`CheckpointError` if it is unreadable,
    of another format, lacks a ``required`` key or fails its checksum."""
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
    missing = sorted({"checksum", *required} - set(record))
    if missing:
        raise CheckpointError(
            f"{path}: lacks {', '.join(missing)}, which resuming needs (a best.pt "
            "copied over last.pt?); start a new run, with model.weights for its weights"
        )
    if record.pop("checksum") != payload_checksum(record):
        raise CheckpointError(
            f"{path}: checksum mismatch, the file is corrupted; continue from "
            "checkpoints/best.pt's weights (model.weights) in a new run, or start fresh"
        )
    return record


def payload_checksum(value: Any) -> str:
    """sha256 over a record's tensors and primitives, in a fixed traversal order."""
    digest = hashlib.sha256()
    _feed(digest, value)
    return digest.hexdigest()


def _feed(digest: Any, value: Any) -> None:
    if isinstance(value, dict):
        digest.update(b"{%d" % len(value))
        for key in sorted(value, key=repr):
            _feed(digest, key)
            _feed(digest, value[key])
    elif isinstance(value, list | tuple):
        digest.update(b"[%d" % len(value))
        for item in value:
            _feed(digest, item)
    elif isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous()
        digest.update(f"T{tensor.dtype}{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    else:
        digest.update(f"{type(value).__name__}:{value!r};".encode())

"""Atomic file creation, for every file the workspace writes: write under a temporary
name in the same directory, fsync, rename, so a half-written file never appears."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

# mkstemp creates files 0600; outputs (data, runs, plots) are meant to be shared.
OUTPUT_MODE = 0o644


@contextmanager
def atomic_output(final_path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``final_path``; on success fsync it and rename it
    to ``final_path``; on any error remove it. The parent directory is created."""
    final_path = Path(final_path)
    final_path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(
        dir=final_path.parent, prefix=f".{final_path.name}.", suffix=".tmp"
    )
    os.fchmod(handle, OUTPUT_MODE)
    os.close(handle)
    temp_path = Path(temp_name)
    try:
        yield temp_path
        with temp_path.open("rb") as stream:
            os.fsync(stream.fileno())
        temp_path.replace(final_path)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    _fsync_directory(final_path.parent)


def atomic_write(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write(file)`` on a temporary binary file, then move it to ``path``."""
    with atomic_output(path) as temp_path, temp_path.open("wb") as handle:
        write(handle)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: readers see the old or the new file, never half."""
    atomic_write(path, lambda handle: handle.write(data))


def write_text_atomic(path: Path, text: str) -> None:
    """UTF-8 text version of :func:`write_bytes_atomic`."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, value: object) -> None:
    """``value`` as the JSON our files hold (indent 2, a final newline), atomically."""
    write_text_atomic(path, json.dumps(value, indent=2) + "\n")


def create_text(path: Path, text: str) -> None:
    """Write a new file atomically; FileExistsError if ``path`` already exists."""
    if path.exists():
        raise FileExistsError(f"{path} already exists")
    write_text_atomic(path, text)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; some filesystems refuse, which is harmless.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

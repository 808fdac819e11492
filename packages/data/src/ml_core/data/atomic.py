"""Atomic file creation: write under a temporary name in the same directory, fsync,
then rename, so a half-written file never appears under its final name."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def fsync_file(path: Path) -> None:
    """Flush ``path``'s content to disk."""
    with path.open("rb") as stream:
        os.fsync(stream.fileno())


@contextmanager
def atomic_output(final_path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``final_path``; on success fsync it and rename it
    to ``final_path``; on any error remove it."""
    final_path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(
        dir=final_path.parent, prefix=f".{final_path.name}.", suffix=".tmp"
    )
    os.close(handle)
    temp_path = Path(temp_name)
    try:
        yield temp_path
        fsync_file(temp_path)
        temp_path.replace(final_path)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise

"""Creating a file that must not exist yet (job scripts, sweep manifests)."""

from __future__ import annotations

from pathlib import Path

from ml_core.contract import write_text_atomic


def create_text(path: Path, text: str) -> None:
    """Write a new file atomically; FileExistsError if ``path`` already exists."""
    if path.exists():
        raise FileExistsError(f"{path} already exists")
    write_text_atomic(path, text)

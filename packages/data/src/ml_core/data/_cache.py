"""Where ml_core caches derived data, and cheap content fingerprints of data files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ml_core.data._errors import DataError
from ml_core.data._layout import official_file_names

# Sampled blocks keep fingerprinting a 7 GB file to a few milliseconds while still
# changing when the content anywhere in a sampled region or the size changes.
_FINGERPRINT_BLOCKS = 16
_FINGERPRINT_BLOCK_BYTES = 64 * 1024


def cache_dir() -> Path:
    """``$ML_CORE_CACHE``, else ``$XDG_CACHE_HOME/ml_core``, else ``~/.cache/ml_core``."""
    if explicit := os.environ.get("ML_CORE_CACHE"):
        return Path(explicit)
    caches = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(caches) / "ml_core"


def file_fingerprint(path: Path | str) -> str:
    """Hex digest of a file's size and evenly spaced content blocks (head and tail
    included): cheap, stable across copies, and different after a rewrite."""
    path = Path(path)
    try:
        size = path.stat().st_size
        digest = hashlib.sha256(str(size).encode())
        with path.open("rb") as stream:
            last_start = max(size - _FINGERPRINT_BLOCK_BYTES, 0)
            offsets = {
                last_start * block // (_FINGERPRINT_BLOCKS - 1)
                for block in range(_FINGERPRINT_BLOCKS)
            }
            for offset in sorted(offsets):
                stream.seek(offset)
                digest.update(stream.read(_FINGERPRINT_BLOCK_BYTES))
    except OSError as error:
        raise DataError(f"{path}: cannot read file ({error.strerror})") from error
    return digest.hexdigest()[:32]


def dataset_fingerprint(data_dir: Path | str) -> dict[str, str]:
    """Fingerprint of every official PCAM file present in ``data_dir`` (name -> hex)."""
    root = Path(data_dir)
    if not root.is_dir():
        raise DataError(f"{root}: data directory not found")
    return {
        name: file_fingerprint(root / name)
        for name in official_file_names()
        if (root / name).is_file()
    }

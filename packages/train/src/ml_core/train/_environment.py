"""``env.json``: what a run ran on, so a result can be traced and reproduced."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import platform
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from ml_core.contract import RunPaths, write_json_atomic
from ml_core.data import dataset_fingerprint
from ml_core.train._distributed import Launch

logger = logging.getLogger(__name__)

PACKAGES = (
    "ml-core-contract",
    "ml-core-data",
    "ml-core-models",
    "ml-core-train",
    "ml-core-viz",
    "ml-core-slurm",
    "torch",
    "numpy",
    "h5py",
)
SLURM_VARIABLES = (
    "SLURM_JOB_ID",
    "SLURM_ARRAY_JOB_ID",
    "SLURM_ARRAY_TASK_ID",
    "SLURM_RESTART_COUNT",
)


def run_environment(data_dir: Path, launch: Launch) -> dict[str, Any]:
    """env.json's content for this process: software, machine, data and launch."""
    return {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "packages": {name: _version(name) for name in PACKAGES},
        "torch_cuda": torch.version.cuda,
        "cuda_available": torch.cuda.is_available(),
        "cuda_devices": [
            torch.cuda.get_device_name(index)
            for index in range(torch.cuda.device_count())
        ],
        "git": _git_state(),
        "uv_lock_sha256": _uv_lock_hash(Path.cwd()),
        "slurm": {name: os.environ.get(name) for name in SLURM_VARIABLES},
        "data_fingerprint": dataset_fingerprint(data_dir),
        "distributed": {"world_size": launch.world_size, "launcher": launch.launcher},
    }


def record_resume(
    paths: RunPaths,
    data_dir: Path,
    launch: Launch,
    changes: dict[str, tuple[object, object]],
) -> None:
    """Add this process's environment and config changes to env.json's ``resumes``."""
    try:
        environment = json.loads(paths.environment.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        logger.warning(
            "%s unreadable (%s); starting a new one", paths.environment, error
        )
        environment = {}
    resume = run_environment(data_dir, launch)
    resume["config_changes"] = {key: list(pair) for key, pair in changes.items()}
    environment.setdefault("resumes", []).append(resume)
    write_json_atomic(paths.environment, environment)


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git_state() -> dict[str, Any]:
    """Commit and dirty flag of the repository around cwd; nulls without git."""
    try:
        commit = _git("rev-parse", "HEAD")
        dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def _git(*args: str) -> str:
    result = subprocess.run(
        ["git", *args], capture_output=True, text=True, check=True, timeout=10
    )
    return result.stdout.strip()


def _uv_lock_hash(start: Path) -> str | None:
    for directory in [start, *start.parents]:
        lock = directory / "uv.lock"
        if lock.is_file():
            return hashlib.sha256(lock.read_bytes()).hexdigest()
    return None

"""A run directory is staged hidden and renamed into place with its first files: it
either does not exist or holds a config and a resumable ``last.pt``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ml_core.contract import ConfigError, RunPaths


class RunExistsError(FileExistsError):
    """The run directory already exists; the message says how to resume or start fresh."""


def check_save_dir(save_dir: Path, source: str) -> None:
    """ConfigError unless runs can be created in ``save_dir`` (made if missing)."""
    existing = next(path for path in (save_dir, *save_dir.parents) if path.exists())
    if not existing.is_dir():
        raise ConfigError(
            f"{source}: training.save_dir: {existing} exists and is not a directory"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{source}: training.save_dir: cannot create runs in {existing} "
            "(not writable: read-only or permission denied)"
        )


def refuse_existing(root: Path) -> None:
    """Raise :class:`RunExistsError` if ``root`` exists (an empty directory, left by a
    start killed while publishing its run, holds nothing to lose: it is removed)."""
    if root.is_dir() and not any(root.iterdir()):
        root.rmdir()
    if root.exists():
        raise RunExistsError(
            f"{root}: run directory already exists; continue it with "
            f"`ml-train --resume {root}`, or start fresh with a new experiment_name "
            f"(--set experiment_name=NAME) or after deleting it"
        )


def stage_run_directory(root: Path) -> RunPaths:
    """Create an empty hidden staging directory for the run that will live at ``root``."""
    refuse_existing(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    # A killed start leaves its staging directory behind: remove those of dead pids.
    for stale in root.parent.glob(f".{root.name}.staging-*"):
        if not _alive(stale.name.rpartition("-")[2]):
            shutil.rmtree(stale, ignore_errors=True)
    staging = root.parent / f".{root.name}.staging-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    (staging / "checkpoints").mkdir(parents=True)
    return RunPaths(staging)


def _alive(pid_text: str) -> bool:
    try:
        os.kill(int(pid_text), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def publish_run_directory(staged: RunPaths, root: Path) -> RunPaths:
    """Move the staged run to ``root``; refuses (and cleans up) if ``root`` appeared."""
    try:
        # mkdir is atomic and fails if root exists; the rename then replaces the
        # empty directory we own (os.rename onto an empty directory is allowed).
        root.mkdir()
    except FileExistsError:
        shutil.rmtree(staged.root)
        refuse_existing(root)
    staged.root.rename(root)
    return RunPaths(root)

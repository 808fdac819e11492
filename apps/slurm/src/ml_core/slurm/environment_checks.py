"""Facts about the submitting environment: sbatch, the venv's sync state, git state."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GitState:
    """The commit the job runs and whether tracked files had uncommitted changes."""

    commit: str
    dirty: bool | None

    def describe(self) -> str:
        if self.dirty is None:
            return self.commit
        return f"{self.commit}{' (dirty)' if self.dirty else ''}"


def venv_python() -> Path:
    """The interpreter of this environment; jobs use it instead of ``uv run``."""
    return Path(sys.executable)


def find_project_root(workdir: Path) -> Path | None:
    """The uv project this environment was synced from: the nearest ``uv.lock`` above
    this package (a workspace install), else above ``workdir``.
    """
    for start in (Path(__file__).resolve().parent, workdir.resolve()):
        for directory in (start, *start.parents):
            if (directory / "uv.lock").is_file():
                return directory
    return None


def venv_sync_problem(project_root: Path | None) -> str | None:
    """None if this environment matches ``uv.lock``; else what is wrong, in one line.

    ``--inexact`` allows extra packages (dev tools); ``--no-default-groups`` checks only
    what jobs need. Jobs never sync: they start this environment's own executables.
    """
    if project_root is None:
        return "no uv.lock found above the working directory"
    uv = shutil.which("uv")
    if uv is None:
        return "uv not on PATH: cannot check the environment against uv.lock"
    checked = subprocess.run(
        [
            uv,
            "sync",
            "--locked",
            "--check",
            "--inexact",
            "--no-default-groups",
            "--project",
            str(project_root),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "UV_PROJECT_ENVIRONMENT": sys.prefix},
        timeout=120,
    )
    if checked.returncode == 0:
        return None
    lines = [line for line in checked.stderr.splitlines() if line.strip()]
    detail = lines[-1] if lines else f"uv exited with {checked.returncode}"
    return f"{sys.prefix} is not synced with {project_root}/uv.lock: {detail}"


def git_state(directory: Path) -> GitState:
    """HEAD commit and dirty flag of the repository holding ``directory``."""
    git = shutil.which("git")
    if git is None:
        return GitState("unknown (git not on PATH)", None)
    head = subprocess.run(
        [git, "-C", str(directory), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    if head.returncode != 0:
        return GitState("unknown (not a git repository)", None)
    changes = subprocess.run(
        [git, "-C", str(directory), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    )
    return GitState(head.stdout.strip(), bool(changes.stdout.strip()))

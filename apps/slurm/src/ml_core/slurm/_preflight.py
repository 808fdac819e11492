"""Preflight of the submitting environment: sbatch, the venv against uv.lock, the tools
jobs start, the git commit. Each failure is one line and blocks sbatch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ml_core.slurm._trainer import venv_script

# --inexact allows extra packages (dev tools); --no-default-groups checks only what jobs
# need. Jobs never sync: they start this environment's own executables.
UV_SYNC_CHECK = ("sync", "--locked", "--check", "--inexact", "--no-default-groups")


@dataclass(frozen=True)
class Check:
    """One preflight result."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


@dataclass(frozen=True)
class GitState:
    """The commit the job runs and whether tracked files had uncommitted changes."""

    commit: str
    dirty: bool | None

    def describe(self) -> str:
        return f"{self.commit}{' (dirty)' if self.dirty else ''}"


def check_environment(workdir: Path) -> list[Check]:
    """sbatch is on PATH, this environment matches uv.lock and holds the tools."""
    sbatch = shutil.which("sbatch")
    checks = [
        Check("sbatch", ok=True, detail=sbatch)
        if sbatch
        else Check(
            "sbatch", ok=False, detail="not on PATH (is this a Slurm login node?)"
        )
    ]
    problem = _venv_sync_problem(find_project_root(workdir))
    checks.append(
        Check("environment", ok=problem is None, detail=problem or "matches uv.lock")
    )
    for tool in ("ml-train", "ml-data"):
        path = venv_script(tool)
        found = path.is_file()
        checks.append(
            Check(
                tool, ok=found, detail=str(path) if found else f"{path} not installed"
            )
        )
    return checks


def find_project_root(workdir: Path) -> Path | None:
    """The uv project this environment was synced from: the nearest ``uv.lock`` above
    this package (a workspace install), else above ``workdir``.
    """
    for start in (Path(__file__).resolve().parent, workdir.resolve()):
        for directory in (start, *start.parents):
            if (directory / "uv.lock").is_file():
                return directory
    return None


def git_state(directory: Path) -> GitState:
    """HEAD commit and dirty flag of the repository holding ``directory``."""
    git = shutil.which("git")
    if git is None:
        return GitState("unknown (git not on PATH)", None)
    head = _output([git, "-C", str(directory), "rev-parse", "HEAD"])
    if head is None:
        return GitState("unknown (not a git repository)", None)
    changes = _output(
        [git, "-C", str(directory), "status", "--porcelain", "--untracked-files=no"]
    )
    return GitState(head, bool(changes))


def _venv_sync_problem(project_root: Path | None) -> str | None:
    """None if this environment matches ``uv.lock``; else what is wrong, in one line."""
    if project_root is None:
        return "no uv.lock found above the working directory"
    uv = shutil.which("uv")
    if uv is None:
        return "uv not on PATH: cannot check the environment against uv.lock"
    checked = subprocess.run(
        [uv, *UV_SYNC_CHECK, "--project", str(project_root)],
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


def _output(argv: list[str]) -> str | None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else None

"""The login node's tools besides training: the preflight of sbatch, the venv against
uv.lock and git, then sbatch itself and job states from sacct and squeue."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ml_core.slurm._trainer import venv_script
from ml_core.slurm._values import run_tool, tool_error

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
    problem = _venv_sync_problem(find_project_root(workdir))
    checks = [
        Check(
            "sbatch",
            ok=sbatch is not None,
            detail=sbatch or "not on PATH (is this a Slurm login node?)",
        ),
        Check("environment", ok=problem is None, detail=problem or "matches uv.lock"),
    ]
    for tool in ("ml-train", "ml-data"):
        path = venv_script(tool)
        detail = str(path) if path.is_file() else f"{path} not installed"
        checks.append(Check(tool, ok=path.is_file(), detail=detail))
    return checks


def find_project_root(workdir: Path) -> Path | None:
    """The uv project this environment was synced from: the nearest ``uv.lock`` above
    this package (a workspace install), else above ``workdir``."""
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

    def output(*args: str) -> str | None:
        done = run_tool([git, "-C", str(directory), *args], timeout_s=60)
        return done.stdout.strip() if done.returncode == 0 else None

    head = output("rev-parse", "HEAD")
    if head is None:
        return GitState("unknown (not a git repository)", None)
    return GitState(head, bool(output("status", "--porcelain", "--untracked-files=no")))


def _venv_sync_problem(project_root: Path | None) -> str | None:
    """None if this environment matches ``uv.lock``; else what is wrong, in one line."""
    if project_root is None:
        return "no uv.lock found above the working directory"
    uv = shutil.which("uv")
    if uv is None:
        return "uv not on PATH: cannot check the environment against uv.lock"
    checked = run_tool(
        [uv, *UV_SYNC_CHECK, "--project", str(project_root)],
        timeout_s=120,
        env={"UV_PROJECT_ENVIRONMENT": sys.prefix},
    )
    if checked.returncode == 0:
        return None
    detail = tool_error(checked, "uv")
    return f"{sys.prefix} is not synced with {project_root}/uv.lock: {detail}"


# States in which Slurm still owns the job, not to be resubmitted: queued or running,
# and requeued, resized or paused.
LIVE_STATES = frozenset(
    {"PENDING", "CONFIGURING", "RUNNING", "SIGNALING", "COMPLETING", "STAGE_OUT"}
    | {"REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESIZING", "SUSPENDED", "STOPPED"}
)


def job_states(job_ids: Iterable[str]) -> dict[str, str]:
    """``{"123": "RUNNING", "124_2": "PENDING", ...}`` from sacct, then squeue: squeue
    knows jobs until MinJobAge after they end, sacct (where accounting is on) longer.
    Missing tools or disabled accounting give fewer entries."""
    ids = ",".join(sorted(set(job_ids)))
    if not ids:
        return {}
    states = _pairs(["sacct", "-n", "-P", "-X", "-o", "JobID,State", "-j", ids])
    # squeue is asked last: while it knows a job, its word is the current one.
    states.update(_pairs(["squeue", "-h", "-r", "-t", "all", "-o", "%i|%T", "-j", ids]))
    return states


def _pairs(argv: list[str]) -> dict[str, str]:
    """``job|state`` lines of a Slurm query; {} if the tool is missing or fails."""
    shown = run_tool(argv, timeout_s=60)
    if shown.returncode != 0:
        return {}
    states = {}
    for line in shown.stdout.splitlines():
        job_id, _, state = line.strip().partition("|")
        if job_id and state:
            # sacct writes "CANCELLED by 0"; keep the state word.
            states[job_id] = state.split()[0]
    return states

"""Checks before anything is submitted; each failure is one line and blocks sbatch."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ml_core.slurm.environment_checks import (
    GitState,
    find_project_root,
    venv_sync_problem,
)
from ml_core.slurm.trainer import (
    RunCheck,
    TrainArgs,
    check_data_dirs,
    check_runs,
    venv_script,
)


@dataclass(frozen=True)
class Check:
    """One preflight result."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


@dataclass(frozen=True)
class TrainerRequest:
    """ml-train arguments of one job or array task, before validation."""

    config_path: Path | None
    overrides: tuple[str, ...]
    device: str | None
    label: str = "config"


def check_sbatch() -> Check:
    """sbatch must be on PATH."""
    found = shutil.which("sbatch")
    if found is None:
        return Check(
            "sbatch", ok=False, detail="not on PATH (is this a Slurm login node?)"
        )
    return Check("sbatch", ok=True, detail=found)


def check_environment(workdir: Path) -> list[Check]:
    """The environment jobs will use is synced from uv.lock and holds ml-train."""
    problem = venv_sync_problem(find_project_root(workdir))
    checks = [
        Check("environment", ok=problem is None, detail=problem or "matches uv.lock")
    ]
    for tool in ("ml-train", "ml-data"):
        path = venv_script(tool)
        found = path.is_file()
        checks.append(
            Check(
                tool, ok=found, detail=str(path) if found else f"{path} not installed"
            )
        )
    return checks


def check_trainer_requests(
    requests: Sequence[TrainerRequest],
) -> tuple[list[Check], list[RunCheck]]:
    """Validate each config like ml-train will, and check each distinct data dir."""
    answers = check_runs(
        [TrainArgs(r.config_path, r.overrides, r.device) for r in requests]
    )
    checks = [
        Check(request.label, ok=False, detail=answer.problem)
        for request, answer in zip(requests, answers, strict=True)
        if answer.problem is not None
    ]
    invocations = [answer for answer in answers if answer.problem is None]
    if invocations and len(invocations) == len(requests):
        names = ", ".join(sorted({str(i.run_dir) for i in invocations})[:3])
        more = "" if len(invocations) <= 3 else f" (+{len(invocations) - 3} more)"
        checks.append(Check("config", ok=True, detail=f"valid; run dir {names}{more}"))
    data_paths = {i.data_path for i in invocations}
    if None in data_paths:
        checks.append(Check("data", ok=True, detail="built-in synthetic PCAM"))
    for data_path, problem in check_data_dirs(data_paths - {None}).items():
        checks.append(
            Check("data", ok=problem is None, detail=f"{data_path}: {problem or 'ok'}")
        )
    return checks, invocations


def git_check(state: GitState) -> Check:
    """Informational: the commit (and dirty flag) the job is submitted from."""
    return Check("git", ok=True, detail=state.describe())

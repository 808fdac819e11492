"""The preflight of a submission, through command lines only: sbatch on PATH, this
environment against uv.lock, git, ``ml-train --check`` for every run and ``ml-data check
--json`` for every data directory."""

from __future__ import annotations

import json
import os
import shutil
import sys
import sysconfig
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ml_core.contract import quoted
from ml_core.slurm._sweep_file import SweepSpec
from ml_core.slurm._values import SlurmInputError, run_tool, tool_error

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


# A check imports the whole training stack (several seconds and some 500 MB each):
# run them side by side, but not so many that a login node runs out of memory.
MAX_PARALLEL_CHECKS = 8
CHECK_TIMEOUT_S = 600
T = TypeVar("T")
R = TypeVar("R")


def venv_script(name: str) -> Path:
    """A console script of this environment (``ml-train``); jobs start it directly."""
    return Path(sysconfig.get_path("scripts")) / name


@dataclass(frozen=True)
class TrainArgs:
    """The ``ml-train`` flags of one run (the job script adds ``--auto-resume``)."""

    config: Path | None
    overrides: tuple[str, ...] = ()
    device: str | None = None

    def argv(self) -> tuple[str, ...]:
        args: list[str] = []
        if self.config is not None:
            args += ["--config", str(self.config)]
        for override in self.overrides:
            args += ["--set", override]
        if self.device is not None:
            args += ["--device", self.device]
        return tuple(args)


@dataclass(frozen=True)
class RunCheck:
    """What ``ml-train --check --auto-resume`` said about one run's flags: its refusal,
    or where the run will live and which data it reads (None: built-in synthetic)."""

    args: TrainArgs
    problem: str | None = None
    experiment_name: str = ""
    run_dir: Path = Path("/")
    data_path: Path | None = None


def check_runs(runs: Sequence[TrainArgs]) -> list[RunCheck]:
    """Validate each run exactly as ``ml-train --auto-resume`` in the job will."""
    return _side_by_side(lambda args: _ask_trainer(args, "--auto-resume"), runs)


def sweep_dir(spec: SweepSpec) -> Path:
    """``<save_dir of the base config>/<sweep name>``, asked for with a run name that
    cannot exist (a base config has no run of its own); SlurmInputError if refused."""
    probe = f"experiment_name=ml-slurm-probe-{uuid.uuid4().hex}"
    answer = _ask_trainer(TrainArgs(spec.config, (*spec.overrides, probe), spec.device))
    if answer.problem is not None:
        raise SlurmInputError(answer.problem)
    return answer.run_dir.parent / str(spec.name)


def check_data_dirs(data_dirs: Iterable[Path]) -> dict[Path, str | None]:
    """``{data_dir: None if ml-data check passes it, else its problems}``."""
    unique = sorted(set(data_dirs), key=str)
    return dict(zip(unique, _side_by_side(_check_data_dir, unique), strict=True))


def _ask_trainer(args: TrainArgs, *extra: str) -> RunCheck:
    answer = run_tool(
        [str(venv_script("ml-train")), *args.argv(), *extra, "--check"], CHECK_TIMEOUT_S
    )
    if answer.returncode != 0:
        return RunCheck(args, problem=tool_error(answer, "ml-train"))
    try:
        run = json.loads(answer.stdout)
        data_path = run["data_path"]
        return RunCheck(
            args,
            experiment_name=str(run["experiment_name"]),
            run_dir=Path(run["run_dir"]),
            data_path=None if data_path is None else Path(data_path),
        )
    except (ValueError, KeyError, TypeError):
        return RunCheck(
            args, problem=f"ml-train --check: not a run: {quoted(answer.stdout)}"
        )


def _check_data_dir(data_dir: Path) -> str | None:
    answer = run_tool(
        [str(venv_script("ml-data")), "check", str(data_dir), "--json"], CHECK_TIMEOUT_S
    )
    if answer.returncode == 0:
        return None
    try:
        problems = "; ".join(str(p) for p in json.loads(answer.stdout)["problems"])
    except (ValueError, KeyError, TypeError):
        problems = ""
    return problems or tool_error(answer, "ml-data")


def _side_by_side(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    workers = max(1, min(len(items), os.cpu_count() or 1, MAX_PARALLEL_CHECKS))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(work, items))

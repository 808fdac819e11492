"""The job script, rendered from the plain-bash ``job_template.sh`` with every value
checked or quoted first: resources, tasks, staging, requeue."""

from __future__ import annotations

import re
import shlex
import string
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ml_core.contract import EXIT_DIVERGED, EXIT_REQUEUE
from ml_core.slurm._preflight import TrainArgs, venv_script
from ml_core.slurm._presets import Preset
from ml_core.slurm._sweep_file import WHOLE_RUN, GridPoint
from ml_core.slurm._values import check_name, check_pattern, quote

INDENT = "        "
# A path inside an #SBATCH line: no whitespace, quotes, '%' (a Slurm pattern) or '#'.
SBATCH_PATH_PATTERN = re.compile(r"[A-Za-z0-9._/+@,:=~-]+")
SRUN_WAIT_S = 120


class JobTemplate(string.Template):
    """``@@{name}`` placeholders, so that bash's own ``$`` needs no escaping."""

    delimiter = "@@"


@dataclass(frozen=True)
class Task:
    """One run of a submission (one array index of a sweep): its ml-train flags, its run
    directory, the status file its job writes, and its grid point."""

    index: int
    args: TrainArgs
    run_dir: Path
    status_file: Path
    point: GridPoint = WHOLE_RUN


@dataclass(frozen=True)
class JobSpec:
    """Everything a job script depends on. ``array``: the indices an array job runs
    (``--array``); None for a plain job, which runs ``tasks[0]``."""

    job_name: str
    log_pattern: Path
    preset: Preset
    tasks: tuple[Task, ...]
    workdir: Path
    git_commit: str
    array: tuple[int, ...] | None = None
    parallel: int | None = None
    stage_source: Path | None = None
    python: Path = field(default_factory=lambda: Path(sys.executable))
    trainer: Path = field(default_factory=lambda: venv_script("ml-train"))


def render_job_script(spec: JobSpec) -> str:
    """The complete bash job script for ``spec``."""
    check_name(spec.job_name, "job name")
    check_pattern(
        str(spec.log_pattern.parent),
        SBATCH_PATH_PATTERN,
        "log directory",
        "a path without spaces, quotes, '%' or '#' (choose a save_dir without them)",
    )
    template = resources.files("ml_core.slurm").joinpath("job_template.sh").read_text()
    array = None if spec.array is None else array_spec(spec.array, spec.parallel)
    return JobTemplate(template).substitute(
        command="submit" if array is None else "sweep",
        git_commit=spec.git_commit,
        job_name=spec.job_name,
        log_pattern=spec.log_pattern,
        signal_spec=f"B:USR1@{spec.preset.signal_lead_s}",
        signal_lead_s=spec.preset.signal_lead_s,
        requeue_exit_code=EXIT_REQUEUE,
        diverged_exit_code=EXIT_DIVERGED,
        resource_lines="\n".join(_resource_lines(spec.preset, array)),
        python=quote(spec.python),
        trainer=quote(spec.trainer),
        launcher=_launcher(spec.preset),
        max_requeues=spec.preset.max_requeues,
        stage_source=quote(spec.stage_source or ""),
        task_selection=_task_selection(spec.tasks, array is not None),
        workdir=quote(spec.workdir),
        module_lines=_module_lines(spec.preset.modules),
    )


def array_spec(indices: Sequence[int], parallel: int | None) -> str:
    """``0-5%2`` for a full range, ``1,4%2`` for a selection."""
    if len(indices) > 1 and list(indices) == list(range(indices[0], indices[-1] + 1)):
        spec = f"{indices[0]}-{indices[-1]}"
    else:
        spec = ",".join(str(index) for index in indices)
    return f"{spec}%{parallel}" if parallel else spec


def _resource_lines(preset: Preset, array: str | None) -> list[str]:
    """The ``#SBATCH`` lines for the preset's resources (validated by the preset)."""
    one_task = preset.tasks == 1
    options = [
        ("partition", preset.partition),
        ("account", preset.account),
        ("gpus", preset.gpus),
        ("gpus-per-node", preset.gpus_per_node),
        ("nodes", preset.nodes),
        ("ntasks", 1) if one_task else ("ntasks-per-node", preset.ntasks_per_node),
        ("cpus-per-task", preset.cpus_per_task),
        ("mem", preset.mem),
        ("time", preset.time),
        ("constraint", preset.constraints),
        ("array", array),
    ]
    # Unset and zero options are left out: Slurm's defaults apply.
    return [f"#SBATCH --{option}={value}" for option, value in options if value]


def _assignments(task: Task, indent: str) -> list[str]:
    return [
        f"{indent}run_dir={quote(task.run_dir)}",
        f"{indent}status_file={quote(task.status_file)}",
        f"{indent}trainer_args=({shlex.join(task.args.argv())})",
    ]


def _task_selection(tasks: Sequence[Task], is_array: bool) -> str:
    if not is_array:
        return "\n".join(_assignments(tasks[0], ""))
    lines = ['case "${SLURM_ARRAY_TASK_ID:-}" in']
    for task in tasks:
        lines += [f"    {task.index})", *_assignments(task, INDENT), f"{INDENT};;"]
    lines += [
        "    *)",
        f'{INDENT}echo "ml-slurm: no task ${{SLURM_ARRAY_TASK_ID:-}} here" >&2',
        f"{INDENT}exit 2",
        f"{INDENT};;",
        "esac",
    ]
    return "\n".join(lines)


def _launcher(preset: Preset) -> str:
    """The words before the trainer: ``srun`` starts one process per task (DDP).
    ``--wait`` kills the others that long after one task ended, so that a crashed rank
    leaves none blocked in a collective; not ``--kill-on-bad-exit``: every rank exits
    75 after a checkpoint, and killing the slower ones would make srun's status 143."""
    if preset.tasks == 1:
        return ""
    # srun no longer inherits --cpus-per-task from the job (Slurm 22.05+): repeat it.
    return f"srun --wait={SRUN_WAIT_S} --cpus-per-task={preset.cpus_per_task}"


def _module_lines(modules: Sequence[str]) -> str:
    if not modules:
        return "# no environment modules for this preset"
    lines = ["set +u  # Lmod's module function may read unset variables"]
    lines += [
        f'module load {quote(module)} || fail "module load {module} failed"'
        for module in modules
    ]
    lines.append("set -u")
    return "\n".join(lines)

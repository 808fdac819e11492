"""``ml-slurm``: submit training runs and sweeps to Slurm, and follow them
(``ml-slurm --help``; exit 0 done, 2 bad input or failed preflight, nothing submitted)."""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import shutil
import sys
from pathlib import Path

from ml_core.cli.train import get_args_parser
from ml_core.contract import (
    EXIT_BAD_INPUT,
    OneLineArgumentParser,
    integer_at_least,
    report_error,
)
from ml_core.slurm._job_dir import (
    SCRIPT_NAME,
    find_job,
    plan_submission,
    submit_plan,
    submit_tasks,
)
from ml_core.slurm._preflight import Check, check_environment
from ml_core.slurm._presets import Preset, get_preset
from ml_core.slurm._status import format_table, task_states, write_aggregate
from ml_core.slurm._sweep_file import SweepSpec, load_sweep
from ml_core.slurm._values import SlurmInputError, SubmissionError, run_tool

DEFAULT_PRESET = "gpu_a100"
AGGREGATE_NAME = "aggregate.csv"
# --flag, the preset field it overrides, its type, its help.
RESOURCE_FLAGS = (
    ("--partition", "partition", str, "Slurm partition"),
    ("--account", "account", str, "Slurm account to charge"),
    ("--time", "time", str, "wall-time limit, HH:MM:SS or D-HH:MM:SS"),
    ("--gpus", "gpus", int, "number of GPUs"),
    ("--cpus", "cpus_per_task", int, "CPU cores per task"),
    ("--nodes", "nodes", int, "nodes (multi-node presets: one process per task, srun)"),
    ("--mem", "mem", str, "memory per node, e.g. 64G"),
    ("--constraint", "constraint", str, "node features, e.g. scratch-node"),
    (
        "--signal-lead",
        "signal_lead_s",
        int,
        "checkpoint and requeue this many seconds before the time limit",
    ),
    ("--max-requeues", "max_requeues", int, "give up after this many requeues"),
)


def resource_flags() -> argparse.ArgumentParser:
    """Flags shared by submit and sweep: the preset and per-job overrides of it."""
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("Slurm resources (override the preset)")
    group.add_argument(
        "--preset",
        help="resource preset from presets.toml or your presets file "
        f"(default: the sweep file's preset, else {DEFAULT_PRESET})",
    )
    group.add_argument(
        "--presets",
        type=Path,
        metavar="FILE",
        help="your presets TOML (default: $ML_CORE_SLURM_PRESETS, "
        "else ~/.config/ml_core/slurm_presets.toml)",
    )
    for flag, field, kind, text in RESOURCE_FLAGS:
        group.add_argument(flag, dest=field, type=kind, help=text)
    group.add_argument(
        "--stage-data",
        dest="stage_data",
        action=argparse.BooleanOptionalAction,
        help="copy the dataset to node-local $TMPDIR first (adds the preset's "
        "staging constraint, scratch-node on Snellius)",
    )
    group.add_argument(
        "--dry-run",
        action="store_true",
        help="print the preflight results and the job script; submit nothing",
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The ml-slurm parser; submit takes ml-train's own (torch-free) flags parser."""
    parser = OneLineArgumentParser(
        prog="ml-slurm",
        description="Submit ml_core training runs and sweeps to Slurm; jobs checkpoint "
        "and requeue themselves before the time limit.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "submit",
        parents=[get_args_parser(add_help=False), resource_flags()],
        help="submit one training run (ml-train's flags apply)",
        description="Submit one ml-train run as a self-requeuing Slurm job. "
        "ml-train's --config, --set and --device are passed on; the job always "
        "resumes its run directory after a requeue (--auto-resume).",
    )
    sweep = commands.add_parser(
        "sweep",
        parents=[resource_flags()],
        help="submit a grid of runs as one job array",
        description="Expand SWEEP.yaml into a job array (one task per grid point "
        "and seed), or resubmit the failed and missing tasks of a job directory.",
    )
    sweep.add_argument("sweep", type=Path, help="sweep YAML (or a job directory)")
    sweep.add_argument(
        "--parallel",
        type=integer_at_least(1),
        help="run at most N tasks at once (--array=...%%N)",
    )
    sweep.add_argument(
        "--resubmit-failed",
        action="store_true",
        help="resubmit only tasks that are neither completed nor queued or running",
    )
    status = commands.add_parser(
        "status",
        help="show the state of a job's tasks; writes a sweep's aggregate.csv",
        description="Show the state of every task of a submission (Slurm's state and "
        "the task's status file), and write a sweep's aggregate.csv. A sweep YAML "
        "asks ml-train where the sweep lives; a directory is read at once.",
    )
    status.add_argument(
        "target",
        nargs="?",
        type=Path,
        help="run dir, its .slurm dir, a sweep dir or sweep YAML (default: your queue)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "submit":
            return _submit(args)
        if args.command == "sweep":
            return _resubmit(args) if args.resubmit_failed else _sweep(args)
        return _status(args.target)
    except (SlurmInputError, SubmissionError) as error:
        report_error("ml-slurm", error)
        return EXIT_BAD_INPUT


def _preset(args: argparse.Namespace, fallback: str | None = None) -> Preset:
    preset = get_preset(args.preset or fallback or DEFAULT_PRESET, args.presets)
    fields = [field for _, field, _, _ in RESOURCE_FLAGS] + ["stage_data"]
    return preset.with_overrides(**{field: getattr(args, field) for field in fields})


def _submit(args: argparse.Namespace) -> int:
    for flag, given in (("--resume", args.resume is not None), ("--check", args.check)):
        if given:
            raise SlurmInputError(
                f"{flag}: a job resumes its own run directory (--auto-resume) and "
                "ml-slurm checks every run itself (see --dry-run); submit the run's "
                "config and experiment_name instead"
            )
    spec = SweepSpec.single_run(args.config, tuple(args.overrides), args.device)
    return _plan_and_submit(spec, _preset(args), args.dry_run)


def _sweep(args: argparse.Namespace) -> int:
    spec = load_sweep(args.sweep)
    if args.parallel is not None:
        spec = dataclasses.replace(spec, parallel=args.parallel)
    return _plan_and_submit(spec, _preset(args, spec.preset), args.dry_run)


def _plan_and_submit(spec: SweepSpec, preset: Preset, dry_run: bool) -> int:
    plan = plan_submission(spec, preset, Path.cwd())
    if not dry_run and not _preflight_passed(plan.checks):
        return EXIT_BAD_INPUT
    for check in plan.checks:
        print(f"preflight: {check.line()}", file=sys.stderr if dry_run else sys.stdout)
    if dry_run:
        print(plan.script, end="")
        return 0 if plan.ok else EXIT_BAD_INPUT
    line, log = submit_plan(plan)
    tasks = len(plan.job.tasks)
    noun = "task" if tasks == 1 else "tasks"
    print(line)
    print(f"job directory: {plan.job_dir} ({tasks} {noun})")
    print(f"log: {log}")
    print(f"job script: {plan.job_dir / SCRIPT_NAME}")
    return 0


def _preflight_passed(checks: list[Check]) -> bool:
    """Print the failed checks on stderr; True when there were none."""
    failed = [check for check in checks if not check.ok]
    for check in failed:
        print(f"ml-slurm: preflight: {check.line()}", file=sys.stderr)
    return not failed


def _resubmit(args: argparse.Namespace) -> int:
    job_dir, record = find_job(args.sweep)
    if not _preflight_passed(check_environment(Path.cwd())):
        return EXIT_BAD_INPUT
    unfinished = [task for task in task_states(record) if task.needs_resubmit]
    if args.dry_run:
        print(format_table(unfinished))
        return 0
    if not unfinished:
        print(f"nothing to resubmit: every task of {job_dir} is done or queued")
        return 0
    indices = [task.index for task in unfinished]
    line, _ = submit_tasks(job_dir, record, indices)
    print(line)
    print(f"resubmitted tasks: {', '.join(str(index) for index in indices)}")
    return 0


def _status(target: Path | None) -> int:
    if target is None:
        if shutil.which("squeue") is None:
            raise SlurmInputError("squeue not on PATH; give a run or sweep directory")
        shown = run_tool(["squeue", "-u", getpass.getuser()], timeout_s=60)
        if shown.returncode != 0:
            raise SlurmInputError(f"squeue: {shown.stderr}")
        print(shown.stdout, end="")
        return 0
    job_dir, record = find_job(target)
    print(f"job directory: {job_dir}")
    print(format_table(task_states(record)))
    if record["array"]:
        # Every run with metrics; nothing is written while no run finished an epoch.
        path = job_dir / AGGREGATE_NAME
        runs = [(task["group"], Path(task["run_dir"])) for task in record["tasks"]]
        rows = write_aggregate(path, runs)
        print(
            f"aggregate: {path} ({rows} rows)" if rows else "aggregate: no metrics yet"
        )
    return 0

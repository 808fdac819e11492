"""``ml-slurm``: submit training runs and sweeps to Slurm, and follow them.

    ml-slurm submit [--config FILE] [--set key.path=value ...] [--device D]
                    [--preset NAME] [--time HH:MM:SS] [--gpus N] [--nodes N]
                    [--account A] [--stage-data] [--dry-run] ...
    ml-slurm sweep SWEEP.yaml [--parallel N] [--preset NAME] [--dry-run] ...
    ml-slurm sweep --resubmit-failed SWEEP_DIR_OR_YAML
    ml-slurm status [RUN_DIR | JOB_DIR | SWEEP_DIR | SWEEP.yaml]

Exit codes: 0 done, 2 bad input or failed preflight (nothing submitted).
"""

from __future__ import annotations

import argparse
import getpass
import shutil
import subprocess
import sys
from pathlib import Path

from ml_core.cli.train import get_args_parser
from ml_core.contract import EXIT_BAD_INPUT, OneLineArgumentParser, report_error
from ml_core.slurm.errors import SlurmInputError, SubmissionError
from ml_core.slurm.preflight import (
    Check,
    TrainerRequest,
    check_environment,
    check_sbatch,
)
from ml_core.slurm.presets import Preset, get_preset
from ml_core.slurm.submission import (
    job_dir_of,
    plan_submission,
    submit_plan,
    submitted_task_state,
)
from ml_core.slurm.sweep_spec import load_sweep
from ml_core.slurm.sweeps import (
    SWEEP_RECORD,
    aggregate_sweep,
    plan_sweep,
    resubmit_failed,
    submit_sweep,
    sweep_dir_for,
    sweep_task_states,
)
from ml_core.slurm.task_state import format_table

DEFAULT_PRESET = "gpu_a100"


def resource_flags() -> argparse.ArgumentParser:
    """Flags shared by submit and sweep: the preset and per-job overrides of it."""
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("Slurm resources (override the preset)")
    group.add_argument(
        "--preset",
        default=None,
        help=f"resource preset from presets.toml or your presets file "
        f"(default: the sweep file's preset, else {DEFAULT_PRESET})",
    )
    group.add_argument(
        "--presets",
        type=Path,
        metavar="FILE",
        help="your presets TOML (default: $ML_CORE_SLURM_PRESETS, "
        "else ~/.config/ml_core/slurm_presets.toml)",
    )
    group.add_argument("--partition", help="Slurm partition")
    group.add_argument("--account", help="Slurm account to charge")
    group.add_argument("--time", help="wall-time limit, HH:MM:SS or D-HH:MM:SS")
    group.add_argument("--gpus", type=int, help="number of GPUs")
    group.add_argument("--cpus", type=int, help="CPU cores per task")
    group.add_argument(
        "--nodes",
        type=int,
        help="nodes (multi-node presets: one training process per task, via srun)",
    )
    group.add_argument("--mem", help="memory per node, e.g. 64G")
    group.add_argument("--constraint", help="node features, e.g. scratch-node")
    group.add_argument(
        "--signal-lead",
        type=int,
        metavar="SECONDS",
        help="checkpoint and requeue this many seconds before the time limit",
    )
    group.add_argument(
        "--max-requeues", type=int, help="give up after this many requeues"
    )
    group.add_argument(
        "--stage-data",
        action=argparse.BooleanOptionalAction,
        default=None,
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
    """The ml-slurm parser; submit takes ml-train's own flags (a torch-free parser)."""
    parser = OneLineArgumentParser(
        prog="ml-slurm",
        description="Submit ml_core training runs and sweeps to Slurm; jobs checkpoint "
        "and requeue themselves before the time limit.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    parents = [get_args_parser(add_help=False), resource_flags()]
    commands.add_parser(
        "submit",
        parents=parents,
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
        "and seed), or resubmit its failed and missing tasks.",
    )
    sweep.add_argument("sweep", type=Path, help="sweep YAML (or its directory)")
    sweep.add_argument(
        "--parallel", type=int, help="run at most N tasks at once (--array=...%%N)"
    )
    sweep.add_argument(
        "--resubmit-failed",
        action="store_true",
        help="resubmit only tasks that are neither completed nor queued or running",
    )
    status = commands.add_parser(
        "status",
        help="show job or sweep state; writes a sweep's aggregate.csv",
        description="Show the state of a run, or of every task of a sweep (Slurm's "
        "state and the task's status file), and write the sweep's aggregate.csv.",
    )
    status.add_argument(
        "target",
        nargs="?",
        type=Path,
        help="run dir, its .slurm dir, a sweep dir or sweep YAML (default: your queue)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
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
    return preset.with_overrides(
        partition=args.partition,
        account=args.account,
        time=args.time,
        gpus=args.gpus,
        cpus_per_task=args.cpus,
        nodes=args.nodes,
        mem=args.mem,
        constraint=args.constraint,
        signal_lead_s=args.signal_lead,
        max_requeues=args.max_requeues,
        stage_data=args.stage_data,
    )


def _report(checks: list[Check], script: str | None, dry_run: bool) -> bool:
    """Print the preflight (in a dry run also the script); True if all passed."""
    ok = script is not None and all(check.ok for check in checks)
    if dry_run:
        for check in checks:
            print(f"preflight: {check.line()}", file=sys.stderr)
        if script is not None:
            print(script, end="")
    elif not ok:
        for check in checks:
            if not check.ok:
                print(f"ml-slurm: preflight: {check.line()}", file=sys.stderr)
    else:
        for check in checks:
            print(f"preflight: {check.line()}")
    return ok


def _submit(args: argparse.Namespace) -> int:
    if args.resume is not None:
        raise SlurmInputError(
            "--resume: a job resumes its own run directory (--auto-resume); submit "
            "the run's config and experiment_name instead"
        )
    preset = _preset(args)
    request = TrainerRequest(args.config, tuple(args.overrides), args.device)
    plan = plan_submission(request, preset, Path.cwd())
    if not _report(plan.checks, plan.script, args.dry_run) or args.dry_run:
        return 0 if plan.ok else EXIT_BAD_INPUT
    submitted = submit_plan(plan, preset)
    print(submitted.sbatch_line)
    print(f"log: {submitted.log}")
    print(f"job script: {submitted.script}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    spec = load_sweep(args.sweep)
    preset = _preset(args, spec.preset)
    parallel = args.parallel if args.parallel is not None else spec.parallel
    if parallel is not None and parallel < 1:
        raise SlurmInputError(f"--parallel: expected an integer >= 1, got {parallel}")
    plan = plan_sweep(spec, preset, Path.cwd(), parallel)
    if not _report(plan.checks, plan.script, args.dry_run) or args.dry_run:
        return 0 if plan.ok else EXIT_BAD_INPUT
    line, job_id = submit_sweep(plan, preset)
    print(line)
    print(f"sweep: {plan.sweep_dir} ({len(plan.tasks)} tasks)")
    print(f"logs: {plan.sweep_dir / 'logs'}/{spec.name}_{job_id}_<index>.out")
    return 0


def _resubmit(args: argparse.Namespace) -> int:
    sweep_dir = _sweep_dir(args.sweep)
    failed = [c for c in (check_sbatch(), *check_environment(Path.cwd())) if not c.ok]
    for check in failed:
        print(f"ml-slurm: preflight: {check.line()}", file=sys.stderr)
    if failed:
        return EXIT_BAD_INPUT
    if args.dry_run:
        states = sweep_task_states(sweep_dir)
        print(format_table([task for task in states if task.needs_resubmit]))
        return 0
    indices, line = resubmit_failed(sweep_dir)
    if line is None:
        print(f"nothing to resubmit: every task of {sweep_dir} is done or queued")
        return 0
    print(line)
    print(f"resubmitted tasks: {', '.join(str(index) for index in indices)}")
    return 0


def _sweep_dir(target: Path) -> Path:
    if target.suffix in {".yaml", ".yml"} and target.is_file():
        return sweep_dir_for(load_sweep(target))
    if (target / SWEEP_RECORD).is_file():
        return target
    raise SlurmInputError(f"{target}: neither a sweep YAML nor a sweep directory")


def _status(target: Path | None) -> int:
    if target is None:
        return _show_queue()
    if target.suffix in {".yaml", ".yml"} or (target / SWEEP_RECORD).is_file():
        sweep_dir = _sweep_dir(target)
        print(f"sweep: {sweep_dir}")
        print(format_table(sweep_task_states(sweep_dir)))
        path, rows = aggregate_sweep(sweep_dir)
        print(
            f"aggregate: {path} ({rows} rows)" if rows else "aggregate: no metrics yet"
        )
        return 0
    print(format_table([submitted_task_state(job_dir_of(target))]))
    return 0


def _show_queue() -> int:
    if shutil.which("squeue") is None:
        raise SlurmInputError("squeue not on PATH; give a run or sweep directory")
    shown = subprocess.run(
        ["squeue", "-u", getpass.getuser()], capture_output=True, text=True, check=False
    )
    print(shown.stdout, end="")
    if shown.returncode != 0:
        print(f"ml-slurm: squeue: {shown.stderr.strip()}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())

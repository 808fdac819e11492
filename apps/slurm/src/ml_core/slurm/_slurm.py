"""Talking to Slurm: submit with sbatch, read job states from squeue and sacct."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from ml_core.slurm._values import SubmissionError

SUBMITTED_PATTERN = re.compile(r"Submitted batch job (\d+)")
# States in which Slurm still owns the job: not to be resubmitted.
LIVE_STATES = frozenset(
    {
        "PENDING",
        "RUNNING",
        "CONFIGURING",
        "COMPLETING",
        "REQUEUED",
        "REQUEUE_FED",
        "REQUEUE_HOLD",
        "RESIZING",
        "SUSPENDED",
        "STOPPED",
        "SIGNALING",
        "STAGE_OUT",
    }
)


def sbatch(script: Path, extra_args: Sequence[str] = ()) -> tuple[str, str]:
    """Run ``sbatch [extra_args] script``; return sbatch's line and the job id."""
    submitted = subprocess.run(
        ["sbatch", *extra_args, str(script)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    match = SUBMITTED_PATTERN.search(submitted.stdout)
    if submitted.returncode != 0 or match is None:
        message = (submitted.stderr or submitted.stdout).strip().replace("\n", " ")
        raise SubmissionError(f"sbatch {script} failed: {message}")
    return match.group(0), match.group(1)


def job_states(job_ids: Iterable[str]) -> dict[str, str]:
    """``{"123": "RUNNING", "124_2": "PENDING", ...}`` from sacct, then squeue.

    squeue knows jobs until MinJobAge after they end; sacct (where accounting is on)
    knows them for longer. Missing tools or disabled accounting give fewer entries.
    """
    ids = ",".join(sorted(set(job_ids)))
    if not ids:
        return {}
    states = _pairs(["sacct", "-n", "-P", "-X", "-o", "JobID,State", "-j", ids])
    # squeue is asked last: while it knows a job, its word is the current one.
    states.update(_pairs(["squeue", "-h", "-r", "-t", "all", "-o", "%i|%T", "-j", ids]))
    return states


def _pairs(argv: list[str]) -> dict[str, str]:
    """``job|state`` lines of a Slurm query; {} if the tool is missing or fails."""
    if shutil.which(argv[0]) is None:
        return {}
    shown = subprocess.run(
        argv, capture_output=True, text=True, check=False, timeout=60
    )
    if shown.returncode != 0:
        return {}
    states = {}
    for line in shown.stdout.splitlines():
        job_id, _, state = line.strip().partition("|")
        if job_id and state:
            # sacct writes "CANCELLED by 0"; keep the state word.
            states[job_id] = state.split()[0]
    return states

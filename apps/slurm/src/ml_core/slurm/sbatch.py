"""Talking to Slurm: submit with sbatch, read job states from squeue and sacct."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from ml_core.slurm.errors import SubmissionError

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


def submit(script: Path, extra_args: Sequence[str] = ()) -> tuple[str, str]:
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
    """``{"123": "RUNNING", "124_2": "PENDING", ...}`` from squeue, then sacct.

    squeue knows jobs until MinJobAge after they end; sacct (where accounting is on)
    knows them for longer. Missing tools or disabled accounting give fewer entries.
    """
    ids = sorted(set(job_ids))
    if not ids:
        return {}
    states = _sacct_states(ids)
    states.update(_squeue_states(ids))
    return states


def _squeue_states(ids: list[str]) -> dict[str, str]:
    if shutil.which("squeue") is None:
        return {}
    shown = subprocess.run(
        ["squeue", "-h", "-r", "-t", "all", "-o", "%i|%T", "-j", ",".join(ids)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return _parse_pairs(shown.stdout) if shown.returncode == 0 else {}


def _sacct_states(ids: list[str]) -> dict[str, str]:
    if shutil.which("sacct") is None:
        return {}
    shown = subprocess.run(
        ["sacct", "-n", "-P", "-X", "-o", "JobID,State", "-j", ",".join(ids)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return _parse_pairs(shown.stdout) if shown.returncode == 0 else {}


def _parse_pairs(text: str) -> dict[str, str]:
    states = {}
    for line in text.splitlines():
        job_id, _, state = line.strip().partition("|")
        if job_id and state:
            # sacct writes "CANCELLED by 0"; keep the state word.
            states[job_id] = state.split()[0]
    return states

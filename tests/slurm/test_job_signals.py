"""The job script's signal handling, run by bash outside Slurm with stand-ins.

The stand-in trainer is a real process that behaves like ml-train at the time limit:
on SIGUSR1 it takes a moment (the checkpoint), then exits with the code it is told
(75: checkpointed, please requeue; 3: the loss became NaN). A stand-in ``scontrol`` on
PATH records whether the script asked for a requeue.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ml_core.contract import EXIT_DIVERGED, EXIT_REQUEUE
from ml_core.slurm import JobSpec, Task, TrainArgs, get_preset, render_job_script

STAND_IN_TRAINER = """#!/bin/bash
printf '%s\\n' "$@" > "$(dirname "$0")/args.txt"
trap 'sleep 0.3; exit $STAND_IN_EXIT' USR1
touch "$(dirname "$0")/started"
while true; do sleep 0.05; done
"""
STAND_IN_SCONTROL = """#!/bin/bash
printf '%s\\n' "$*" >> "$(dirname "$0")/scontrol.txt"
"""
MAX_REQUEUES = 2


def stand_in(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


def run_signalled_job(tmp_path: Path, exit_code: int, restarts: int) -> str:
    """Render a job script for the stand-in, start it, USR1 it; return its output."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    trainer = stand_in(bin_dir / "trainer", STAND_IN_TRAINER)
    stand_in(bin_dir / "scontrol", STAND_IN_SCONTROL)
    task = Task(0, TrainArgs(Path("a b.yaml")), tmp_path / "run", tmp_path / "s.json")
    spec = JobSpec(
        job_name="signals",
        log_pattern=tmp_path / "%x_%j.out",
        preset=get_preset("local").with_overrides(max_requeues=MAX_REQUEUES),
        tasks=(task,),
        workdir=tmp_path,
        git_commit="test",
        trainer=trainer,
    )
    script = tmp_path / "job.sbatch"
    script.write_text(render_job_script(spec))
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "SLURM_JOB_ID": "7",
        "SLURM_RESTART_COUNT": str(restarts),
        "STAND_IN_EXIT": str(exit_code),
    }
    env.pop("SLURM_ARRAY_JOB_ID", None)
    job = subprocess.Popen(
        ["bash", str(script)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 20
    while not (bin_dir / "started").exists():
        assert job.poll() is None, job.communicate()[0]
        assert time.monotonic() < deadline, "the stand-in trainer never started"
        time.sleep(0.05)
    job.send_signal(signal.SIGUSR1)  # what scancel --signal=USR1 --batch does
    output, _ = job.communicate(timeout=20)
    assert "SIGUSR1 received, forwarding it to the trainer" in output
    # Every status write (start, end) worked, without a word on the log.
    assert "could not write" not in output
    assert "Warning" not in output
    assert (bin_dir / "args.txt").read_text().splitlines() == [
        "--config",
        "a b.yaml",
        "--auto-resume",
    ]
    return f"exit {job.returncode}\n{output}"


def requeue_calls(tmp_path: Path) -> list[str]:
    path = tmp_path / "bin" / "scontrol.txt"
    return path.read_text().splitlines() if path.exists() else []


def status_of(tmp_path: Path) -> tuple[str, int, int]:
    status = json.loads((tmp_path / "s.json").read_text())
    return status["state"], status["exit_code"], status["restarts"]


def test_checkpointed_job_requeues_itself(tmp_path: Path) -> None:
    output = run_signalled_job(tmp_path, EXIT_REQUEUE, restarts=0)
    assert output.startswith("exit 0\n"), output
    assert "requeuing 7 (restart 1)" in output
    assert requeue_calls(tmp_path) == ["requeue 7"]
    assert status_of(tmp_path) == ("REQUEUED", EXIT_REQUEUE, 0)


def test_max_requeues_stops_the_loop(tmp_path: Path) -> None:
    output = run_signalled_job(tmp_path, EXIT_REQUEUE, restarts=MAX_REQUEUES)
    assert output.startswith(f"exit {EXIT_REQUEUE}\n"), output
    assert "not requeuing: 2 restarts reached max_requeues" in output
    assert requeue_calls(tmp_path) == []
    assert status_of(tmp_path) == ("FAILED", EXIT_REQUEUE, MAX_REQUEUES)


@pytest.mark.parametrize("restarts", [0, 1])
def test_diverged_training_fails_and_is_never_requeued(
    tmp_path: Path, restarts: int
) -> None:
    output = run_signalled_job(tmp_path, EXIT_DIVERGED, restarts=restarts)
    assert output.startswith(f"exit {EXIT_DIVERGED}\n"), output
    assert "training diverged (NaN loss): failed, not requeued" in output
    assert requeue_calls(tmp_path) == []
    assert status_of(tmp_path) == ("FAILED", EXIT_DIVERGED, restarts)

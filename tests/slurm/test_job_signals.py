"""The job script's signal handling, run by bash outside Slurm with a stand-in trainer.

The stand-in is a real process that behaves like ml-train at the time limit: on SIGUSR1
it takes a moment (the checkpoint), then exits with the requeue code. With the restart
count at its maximum the script must not requeue: it records FAILED and exits 75.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ml_core.contract import EXIT_REQUEUE
from ml_core.slurm import (
    JobSpec,
    TrainerTask,
    get_preset,
    render_job_script,
)

STAND_IN_TRAINER = """#!/bin/bash
printf '%s\\n' "$@" > "$(dirname "$0")/args.txt"
trap 'sleep 0.3; exit 75' USR1
touch "$(dirname "$0")/started"
while true; do sleep 0.05; done
"""


def test_usr1_is_forwarded_and_max_requeues_stops_the_loop(tmp_path: Path) -> None:
    trainer = tmp_path / "trainer"
    trainer.write_text(STAND_IN_TRAINER)
    trainer.chmod(0o755)
    status_file = tmp_path / "status.json"
    spec = JobSpec(
        command="submit",
        job_name="signals",
        log_pattern=tmp_path / "%x_%j.out",
        preset=get_preset("local").with_overrides(max_requeues=2),
        tasks=(TrainerTask(("--config", "a b.yaml"), tmp_path / "run", status_file),),
        python=Path(sys.executable),
        trainer=trainer,
        workdir=tmp_path,
        git_commit="test",
    )
    script = tmp_path / "job.sbatch"
    script.write_text(render_job_script(spec))
    env = {**os.environ, "SLURM_JOB_ID": "7", "SLURM_RESTART_COUNT": "2"}
    job = subprocess.Popen(
        ["bash", str(script)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 20
    while not (tmp_path / "started").exists():
        assert job.poll() is None, job.communicate()[0]
        assert time.monotonic() < deadline, "the stand-in trainer never started"
        time.sleep(0.05)
    job.send_signal(signal.SIGUSR1)  # what scancel --signal=USR1 --batch does
    output, _ = job.communicate(timeout=20)
    assert job.returncode == EXIT_REQUEUE, output
    assert "SIGUSR1 received, forwarding it to the trainer" in output
    assert "not requeuing: 2 restarts reached max_requeues" in output
    status = json.loads(status_file.read_text())
    assert (status["state"], status["exit_code"], status["restarts"]) == (
        "FAILED",
        EXIT_REQUEUE,
        2,
    )
    assert (tmp_path / "args.txt").read_text().splitlines() == [
        "--config",
        "a b.yaml",
        "--auto-resume",
    ]

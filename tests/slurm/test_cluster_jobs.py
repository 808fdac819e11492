"""Real jobs on the private test cluster: a submitted run that is requeued, and a sweep.

One module fixture submits everything at once so the jobs overlap: a run that is
signalled with ``scancel --signal=USR1 --batch`` mid-training and must checkpoint,
requeue, resume and complete, and a 3-task sweep whose last task is made to fail. Sweep
task 0 has the run's exact config, so it is the uninterrupted reference for the resumed
run's metrics.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ml_core.slurm import main
from tests.metrics_rows import metrics_rows, without_timing

from .conftest import MAX_CLI_SECONDS, WAIT_S, run_fresh_cli, wait_until

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

EPOCHS = 4  # the interrupt lands in epochs 2-4; fewer would race the end
REVOCATION_MARGIN_S = 2.0


@dataclass
class Campaign:
    """Everything the module fixture submitted."""

    root: Path
    tiny_pcam: Path
    stdout: str
    job: str
    run_dir: Path
    requeue_log: list[str]
    sweep_dir: Path
    sweep_job: str


def run_main(*argv: str) -> tuple[int, str]:
    """``ml-slurm`` in this process (ml-train's modules are imported once)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def job_id_in(stdout: str) -> str:
    match = re.search(r"^Submitted batch job (\d+)$", stdout, re.MULTILINE)
    assert match, stdout
    return match.group(1)


def interrupt_and_release(cluster: Any, job: str, run_dir: Path) -> list[str]:
    """USR1 to the batch shell mid-training; release the requeued job at once."""
    wait_until(lambda: len(metrics_rows(run_dir)) >= 1, "the first epoch")
    signalled = time.monotonic()
    cluster.run("scancel", "--signal=USR1", "--batch", job)
    cluster.wait_for_state(job, {"PENDING"}, WAIT_S)
    requeued = time.monotonic()
    # slurmd refuses a credential issued in the same second as the old one was
    # revoked ("Job credential revoked"): Slurm's own BeginTime hold avoids that.
    time.sleep(REVOCATION_MARGIN_S)
    cluster.release(job)
    cluster.wait_for_state(job, {"RUNNING", *cluster.terminal_states}, WAIT_S)
    running = time.monotonic()
    return [
        f"USR1 -> requeued (PENDING): {requeued - signalled:.1f} s",
        f"USR1 -> running again after release: {running - signalled:.1f} s",
    ]


@pytest.fixture(scope="module")
def campaign(
    slurm_cluster: Any,
    tiny_pcam: Path,
    tiny_config_writer: Callable[[Path, Path, Path, int], Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Campaign]:
    root = tmp_path_factory.mktemp("campaign")
    config = tiny_config_writer(root / "tiny.yaml", tiny_pcam, root / "results", EPOCHS)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.delenv("ML_CORE_SLURM_PRESETS", raising=False)
        patch.setenv("XDG_CONFIG_HOME", str(root / "config"))
        # The job inherits TMPDIR: our stand-in for a node's local scratch.
        patch.setenv("TMPDIR", str(root / "node_scratch"))
        # The sweep first: planning it asks ml-train about every task, which takes
        # longer than the whole interrupted run; the signal must find that run alive.
        sweep_file = root / "sweep.yaml"
        sweep_file.write_text(
            "name: seeds\nconfig: tiny.yaml\nparallel: 3\npreset: local\n"
            "grid:\n  training.learning_rate: [0.001]\n  seed: [0, 1, 2]\n"
        )
        code, out = run_main("sweep", str(sweep_file))
        assert code == 0, out
        sweep_dir = root / "results" / "seeds"
        # A file where task 2's run directory belongs: ml-train refuses, the task fails.
        (sweep_dir / "runs").mkdir()
        (sweep_dir / "runs" / "task_002").write_text("in the way\n")
        code, submitted = run_main(
            "submit",
            "--config",
            str(config),
            "--set",
            "experiment_name=interrupted",
            "--preset",
            "local",
            "--stage-data",
        )
        assert code == 0, submitted
        job = job_id_in(submitted)
        requeue_log = interrupt_and_release(
            slurm_cluster, job, root / "results" / "interrupted"
        )
        yield Campaign(
            root=root,
            tiny_pcam=tiny_pcam,
            stdout=submitted,
            job=job,
            run_dir=root / "results" / "interrupted",
            requeue_log=requeue_log,
            sweep_dir=sweep_dir,
            sweep_job=job_id_in(out),
        )


def sweep_states(sweep_dir: Path) -> str:
    """``ml-slurm status SWEEP_DIR`` as a user runs it: fast and without torch."""
    run = run_fresh_cli("status", str(sweep_dir))
    assert (run.code, run.torch) == (0, False), run.stderr
    assert run.seconds < MAX_CLI_SECONDS, f"status took {run.seconds:.2f} s"
    return run.stdout


def task_line(status_output: str, index: int) -> str:
    for line in status_output.splitlines():
        if line.startswith(f"{index} "):
            return line
    pytest.fail(f"no line for task {index} in:\n{status_output}")


def test_sweep_runs_reports_resubmits_failed_and_aggregates(
    campaign: Campaign, slurm_cluster: Any
) -> None:
    sweep_dir, job = campaign.sweep_dir, campaign.sweep_job
    terminal = slurm_cluster.terminal_states
    assert slurm_cluster.wait_for_state(f"{job}_2", terminal, WAIT_S) == "FAILED"
    before = sweep_states(sweep_dir)
    assert " FAILED " in task_line(before, 2)
    manifest = (sweep_dir / "manifest.tsv").read_text().splitlines()
    assert len(manifest) == 1 + 3
    assert manifest[3].split("\t")[:3] == [
        "2",
        "learning_rate=0.001",
        str(sweep_dir / "runs" / "task_002"),
    ]
    assert "#SBATCH --array=0-2%3" in (sweep_dir / "job.sbatch").read_text()

    # Tasks 0 and 1 are running or done: only task 2 goes back to Slurm.
    (sweep_dir / "runs" / "task_002").unlink()
    code, out = run_main("sweep", "--resubmit-failed", str(sweep_dir))
    assert code == 0
    assert "resubmitted tasks: 2\n" in out
    resubmitted = job_id_in(out)
    code, again = run_main("sweep", "--resubmit-failed", str(sweep_dir))
    assert (code, again.split(":")[0]) == (0, "nothing to resubmit")
    for task in (f"{job}_0", f"{job}_1", f"{resubmitted}_2"):
        assert slurm_cluster.wait_for_state(task, terminal, WAIT_S) == "COMPLETED"
    record = json.loads((sweep_dir / "submission.json").read_text())
    assert (record["name"], record["array"], len(record["tasks"])) == ("seeds", True, 3)
    assert [(s["job_id"], s["indices"]) for s in record["submissions"]] == [
        (job, [0, 1, 2]),
        (resubmitted, [2]),
    ]

    after = sweep_states(sweep_dir)
    for index in range(3):
        assert " COMPLETED " in task_line(after, index)
    assert f"aggregate: {sweep_dir / 'aggregate.csv'} ({EPOCHS} rows)" in after
    with (sweep_dir / "aggregate.csv").open(newline="") as handle:
        aggregate = list(csv.DictReader(handle))
    assert [row["group"] for row in aggregate] == ["learning_rate=0.001"] * EPOCHS
    assert [row["n_runs"] for row in aggregate] == ["3"] * EPOCHS
    runs = [metrics_rows(sweep_dir / "runs" / f"task_00{i}") for i in range(3)]
    collapsed = [sum(bool(rows[e]["warning"]) for rows in runs) for e in range(EPOCHS)]
    assert [int(row["n_collapsed"]) for row in aggregate] == collapsed
    # Exact: the same floats (CSV keeps repr, which round-trips) through the same
    # statistics functions.
    last = [float(rows[-1]["val_loss"]) for rows in runs]
    assert float(aggregate[-1]["val_loss_mean"]) == statistics.fmean(last)
    assert float(aggregate[-1]["val_loss_std"]) == statistics.stdev(last)

    from ml_core.viz import plot_curves

    assert plot_curves([sweep_dir / "aggregate.csv"]).is_file()


def completion_record(cluster: Any, job: str) -> str:
    records = [r for r in cluster.completion_records() if f"JobId={job} " in r]
    assert records, f"no completion record for job {job}"
    return records[-1]


def test_submitted_run_completes_with_its_run_directory(
    campaign: Campaign, slurm_cluster: Any
) -> None:
    job, run = campaign.job, campaign.run_dir
    terminal = slurm_cluster.terminal_states
    assert slurm_cluster.wait_for_state(job, terminal, WAIT_S) == "COMPLETED"
    assert "JobState=COMPLETED" in completion_record(slurm_cluster, job)
    log = re.search(r"^log: (.+)$", campaign.stdout, re.MULTILINE)
    assert log, campaign.stdout
    assert (
        Path(log.group(1))
        == run.with_name("interrupted.slurm") / f"interrupted_{job}.out"
    )
    assert "ml-slurm: trainer exited with 0" in Path(log.group(1)).read_text()
    assert (run.with_name("interrupted.slurm") / "job.sbatch").is_file()
    assert len(metrics_rows(run)) == EPOCHS
    assert (run / "checkpoints" / "last.pt").is_file()
    assert (run / "test_metrics.json").is_file()
    status = json.loads(
        (run.with_name("interrupted.slurm") / "status.json").read_text()
    )
    assert status["state"] == "COMPLETED"
    assert status["final_metrics"]["epoch"] == EPOCHS
    assert status["test_metrics"]["split"] == "test"
    record = json.loads(
        (run.with_name("interrupted.slurm") / "submission.json").read_text()
    )
    assert (record["name"], record["array"]) == ("interrupted", False)
    assert [task["run_dir"] for task in record["tasks"]] == [str(run)]
    assert [s["job_id"] for s in record["submissions"]] == [job]
    queue = run_fresh_cli("status")
    assert (queue.code, queue.torch) == (0, False), queue.stderr
    assert queue.seconds < MAX_CLI_SECONDS, f"status took {queue.seconds:.2f} s"
    # The console script, as a user runs it.
    shown = subprocess.run(
        [str(Path(sys.executable).with_name("ml-slurm")), "status", str(run)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert re.search(rf"^interrupted\s+{job}\s+COMPLETED\s", shown.stdout, re.MULTILINE)


def test_signalled_job_checkpoints_requeues_and_resumes_exactly(
    campaign: Campaign, slurm_cluster: Any
) -> None:
    job, run = campaign.job, campaign.run_dir
    terminal = slurm_cluster.terminal_states
    assert slurm_cluster.wait_for_state(job, terminal, WAIT_S) == "COMPLETED"
    print("\n".join(campaign.requeue_log))
    job_dir = run.with_name("interrupted.slurm")
    status = json.loads((job_dir / "status.json").read_text())
    assert (status["state"], status["restarts"]) == ("COMPLETED", 1)
    log = (job_dir / f"interrupted_{job}.out").read_text()
    assert "SIGUSR1 received" in log
    assert f"trainer exited with 75: requeuing {job} (restart 1)" in log
    assert f"job {job} start 1 " in log
    # Staged once, verified, and reused by the restarted job.
    staged = campaign.root / "node_scratch" / "ml_core_data"
    assert log.count(f"ml-slurm: staging {campaign.tiny_pcam} to {staged}") == 2
    assert sorted(p.name for p in staged.glob("*.h5.md5")) == sorted(
        f"{p.name}.md5" for p in campaign.tiny_pcam.glob("*.h5")
    )
    assert f"data_path: {staged}" in (run / "config.yaml").read_text()
    # Sweep task 0 ran the same config without interruption.
    reference_job = f"{campaign.sweep_job}_0"
    assert slurm_cluster.wait_for_state(reference_job, terminal, WAIT_S) == "COMPLETED"
    reference = campaign.sweep_dir / "runs" / "task_000"
    resumed, uninterrupted = metrics_rows(run), metrics_rows(reference)
    assert len(resumed) == len(uninterrupted) == EPOCHS

    assert without_timing(resumed) == without_timing(uninterrupted)

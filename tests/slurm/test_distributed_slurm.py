"""Two-process DDP runs on the private test cluster, launched by srun (gloo, CPU).

One module fixture starts both at once so they overlap: a job submitted with the
``local_2tasks`` preset (its script starts the trainer with ``srun``), signalled with
USR1 mid-training so that it checkpoints, requeues, resumes and completes; and a plain
``srun -n 2 ml-train`` of the same config, the uninterrupted reference.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ml_core.slurm import (
    JobSpec,
    SlurmInputError,
    Task,
    TrainArgs,
    get_preset,
    main,
    render_job_script,
)
from tests.metrics_rows import metrics_rows, without_timing

from .conftest import WAIT_S, wait_until

EPOCHS = 5
# 256 samples / (2 ranks x 4): 32 steps per epoch, long enough to signal mid-run.
CONFIG = """\
experiment_name: {name}
seed: 0
data:
  dataset_type: pcam
  data_path: {data}
  batch_size: 4
model:
  hidden_units: [16]
training:
  epochs: {epochs}
  save_dir: {save_dir}
  device: cpu
  bf16: false
  cpu_threads: 1
  log_every_seconds: 0
"""


@dataclass
class Launches:
    root: Path
    job: str
    job_run_dir: Path
    srun: subprocess.CompletedProcess[str]
    srun_run_dir: Path


def submit(config: Path) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["submit", "--config", str(config), "--preset", "local_2tasks"])
    assert code == 0, out.getvalue()
    return out.getvalue().split("Submitted batch job ")[1].split()[0]


@pytest.fixture(scope="module")
def launches(
    slurm_cluster: Any, tiny_pcam: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Launches]:
    root = tmp_path_factory.mktemp("ddp_slurm")
    save_dir = root / "results"
    configs = {}
    for name in ("requeued", "direct"):
        configs[name] = root / f"{name}.yaml"
        configs[name].write_text(
            CONFIG.format(name=name, data=tiny_pcam, epochs=EPOCHS, save_dir=save_dir)
        )
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.delenv("ML_CORE_SLURM_PRESETS", raising=False)
        patch.setenv("XDG_CONFIG_HOME", str(root / "config"))
        job = submit(configs["requeued"])
        srun = subprocess.Popen(
            [
                "srun",
                "--ntasks=2",
                "--cpus-per-task=1",
                "--mem=2G",
                str(Path(sys.executable).parent / "ml-train"),
                "--config",
                str(configs["direct"]),
            ],
            cwd=root,
            env={**os.environ, "SLURM_CONF": str(slurm_cluster.conf)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        job_run_dir = save_dir / "requeued"
        wait_until(lambda: len(metrics_rows(job_run_dir)) >= 1, "the first epoch")
        slurm_cluster.run("scancel", "--signal=USR1", "--batch", job)
        slurm_cluster.wait_for_state(job, {"PENDING"}, WAIT_S)
        time.sleep(2.0)  # see test_cluster_jobs: a credential revoked this second
        slurm_cluster.release(job)
        stdout, stderr = srun.communicate(timeout=WAIT_S)
        completed = subprocess.CompletedProcess(
            srun.args, srun.returncode, stdout, stderr
        )
        yield Launches(root, job, job_run_dir, completed, save_dir / "direct")


@pytest.mark.slurm
@pytest.mark.slow
def test_srun_two_tasks_train_with_rank_zero_writing(launches: Launches) -> None:
    assert launches.srun.returncode == 0, launches.srun.stderr
    assert launches.srun.stdout.count("run directory: ") == 1  # rank 0 alone reports
    run_dir = launches.srun_run_dir
    assert len(metrics_rows(run_dir)) == EPOCHS
    environment = json.loads((run_dir / "env.json").read_text())
    assert environment["distributed"] == {"world_size": 2, "launcher": "srun"}
    assert "rank 0 of 2 (srun, gloo" in launches.srun.stderr


@pytest.mark.slurm
@pytest.mark.slow
def test_requeued_two_task_job_resumes_exactly(
    launches: Launches, slurm_cluster: Any
) -> None:
    state = slurm_cluster.wait_for_state(
        launches.job, slurm_cluster.terminal_states, WAIT_S
    )
    log = "\n".join(
        path.read_text() for path in launches.root.rglob("*.out") if path.is_file()
    )
    assert state == "COMPLETED", log
    assert "forwarding it to the trainer" in log
    assert "trainer exited with 75: requeuing" in log  # every rank's status
    assert "stopped by SIGUSR1" in log
    assert "resuming" in log
    script = next(launches.root.rglob("*.sbatch")).read_text()
    assert "#SBATCH --ntasks-per-node=2" in script
    resumed = without_timing(metrics_rows(launches.job_run_dir))
    reference = without_timing(metrics_rows(launches.srun_run_dir))
    assert len(resumed) == EPOCHS
    assert resumed == reference


@pytest.fixture
def no_user_presets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ML_CORE_SLURM_PRESETS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def resource_lines(preset_name: str, tmp_path: Path, **overrides: object) -> list[str]:
    """The ``#SBATCH`` lines of a script rendered for the preset."""
    task = Task(0, TrainArgs(None), tmp_path / "run", tmp_path / "status.json")
    spec = JobSpec(
        job_name="ddp",
        log_pattern=tmp_path / "%x_%j.out",
        preset=get_preset(preset_name).with_overrides(**overrides),
        tasks=(task,),
        workdir=tmp_path,
        git_commit="test",
    )
    script = render_job_script(spec)
    return [line for line in script.splitlines() if line.startswith("#SBATCH")]


@pytest.mark.usefixtures("no_user_presets")
def test_multi_gpu_presets_ask_for_one_task_per_gpu(tmp_path: Path) -> None:
    node = resource_lines("gpu_h100_4x", tmp_path)
    assert "#SBATCH --nodes=1" in node
    assert "#SBATCH --ntasks-per-node=4" in node
    assert "#SBATCH --gpus-per-node=4" in node
    assert not any(line.startswith("#SBATCH --gpus=") for line in node)
    multinode = get_preset("gpu_h100_multinode").with_overrides(nodes=8)
    assert (multinode.tasks, multinode.partition) == (32, "gpu_h100")
    assert "#SBATCH --nodes=8" in resource_lines(
        "gpu_h100_multinode", tmp_path, nodes=8
    )
    assert "#SBATCH --ntasks=1" in resource_lines("gpu_h100", tmp_path)


@pytest.mark.usefixtures("no_user_presets")
def test_staging_on_several_nodes_is_refused() -> None:
    with pytest.raises(SlurmInputError, match="stage_data"):
        get_preset("gpu_h100_multinode").with_overrides(stage_data=True)
    with pytest.raises(SlurmInputError, match="gpus_per_node"):
        get_preset("gpu_h100_4x").with_overrides(gpus=4)

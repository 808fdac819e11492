"""Data-parallel training with real ``torchrun --nproc-per-node=2`` processes (gloo, CPU).

Runs, one after the other, on the 512-sample synthetic PCAM:
- ``ranks``: 2 ranks x batch 8, no dropout, each rank in its own working directory
  (so a file written by rank 1 would show up) and with the parameter trace on;
- ``accumulated``: 1 process x batch 8 accumulating 2 batches per step, no dropout: the
  same arithmetic as ``ranks`` (each half's mean loss, the halves' gradients averaged;
  halving is exact in binary floating point), so it must match ``ranks`` bit for bit;
- ``reference``: 2 ranks x batch 8 with dropout, uninterrupted;
- ``stopped``: the same config, SIGUSR1 sent to rank 1 alone in epoch 2, then
  continued with ``--auto-resume``: its metrics must equal ``reference`` exactly.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from ml_core.cli.train import train_main as ml_train_main
from ml_core.train._distributed import Launch, detect_launch
from ml_core.train._fit import PARAMETER_TRACE_VARIABLE
from tests.metrics_rows import without_timing

from .conftest import cli, read_metrics, run_cli, small_run_overrides

pytestmark = pytest.mark.slow

STEPS = 32  # 512 samples / (2 ranks x 8)
TRIGGER = re.compile(rf"epoch 2/3 step 5/{STEPS} ")
STOPPED = re.compile(rf"stopped by SIGUSR1 at epoch 2 step (\d+)/{STEPS}")
# Each worker starts in ./rank<RANK>/ (sh: torchrun --no-python runs it per rank).
PER_RANK_CWD = ["sh", "-c", 'mkdir -p "rank$RANK" && cd "rank$RANK" && exec "$@"', "sh"]


def torchrun(*worker: str) -> list[str]:
    """A two-process torchrun command line on a free local port."""
    return [cli("torchrun"), "--standalone", "--nproc-per-node=2", *worker]


def start(
    command: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def worker_pids(launcher: subprocess.Popen[str]) -> dict[int, int]:
    """{rank: pid} of torchrun's worker processes (read from their environment)."""
    pids: dict[int, int] = {}
    deadline = time.monotonic() + 30
    while len(pids) < 2 and time.monotonic() < deadline:
        children = Path(f"/proc/{launcher.pid}/task/{launcher.pid}/children")
        for pid in map(int, children.read_text().split()):
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            for entry in environ:
                if entry.startswith(b"RANK="):
                    pids[int(entry[5:])] = pid
        time.sleep(0.1)
    return pids


def interrupt_rank_one(command: list[str], cwd: Path) -> tuple[int, str]:
    """Start a 2-rank run, SIGUSR1 rank 1 only at the trigger line, wait for the end."""
    launcher = start(command, cwd)
    assert launcher.stderr is not None
    lines = []
    for line in launcher.stderr:
        lines.append(line)
        if TRIGGER.search(line):
            pids = worker_pids(launcher)
            assert set(pids) == {0, 1}, pids
            subprocess.run(["kill", "-USR1", str(pids[1])], check=True)
            break
    _, rest = launcher.communicate(timeout=120)
    return launcher.returncode, "".join(lines) + rest


@dataclass
class Runs:
    cwd: Path
    trace: Path
    ranks: subprocess.CompletedProcess[str]
    accumulated: subprocess.CompletedProcess[str]
    reference: subprocess.CompletedProcess[str]
    stopped_code: int
    stopped_log: str
    checkpoint: dict
    resumed: subprocess.CompletedProcess[str]

    def run_dir(self, name: str, rank_dir: str = "") -> Path:
        return self.cwd / rank_dir / "experiments/results" / name


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, train_data_dir: Path) -> Runs:
    cwd = tmp_path_factory.mktemp("distributed")
    trace = cwd / "trace"
    no_dropout = "model.dropout_rate=0"
    traced_env = {**os.environ, PARAMETER_TRACE_VARIABLE: str(trace)}
    # The independent runs overlap (their start-up is mostly importing torch).
    ranks = start(
        torchrun(
            "--no-python",
            *PER_RANK_CWD,
            cli("ml-train"),
            *small_run_overrides(train_data_dir, "ranks", no_dropout),
        ),
        cwd,
        traced_env,
    )
    reference = start(
        torchrun(cli("ml-train"), *small_run_overrides(train_data_dir, "reference")),
        cwd,
    )
    # The single-process run meanwhile, forked from the pre-imported server.
    accumulated = run_cli(
        "ml-train",
        small_run_overrides(
            train_data_dir,
            "accumulated",
            no_dropout,
            "training.accumulate_grad_batches=2",
        ),
        cwd,
    )
    ranks_done, reference_done = finish(ranks), finish(reference)
    args = small_run_overrides(train_data_dir, "stopped")
    code, log = interrupt_rank_one(
        torchrun(cli("ml-train"), "--auto-resume", *args), cwd
    )
    last = cwd / "experiments/results/stopped/checkpoints/last.pt"
    checkpoint = torch.load(last, weights_only=True) if last.exists() else {}
    resumed = finish(start(torchrun(cli("ml-train"), "--auto-resume", *args), cwd))
    return Runs(
        cwd,
        trace,
        ranks_done,
        accumulated,
        reference_done,
        code,
        log,
        checkpoint,
        resumed,
    )


def test_parameters_are_identical_on_both_ranks_after_every_step(runs: Runs) -> None:
    assert runs.ranks.returncode == 0, runs.ranks.stderr
    rank0 = (runs.trace / "rank0.txt").read_text().splitlines()
    rank1 = (runs.trace / "rank1.txt").read_text().splitlines()
    assert len(rank0) == 3 * STEPS
    assert rank0 == rank1
    assert len(set(rank0)) == len(rank0)  # every step changed the parameters


def test_only_rank_zero_writes(runs: Runs) -> None:
    assert runs.ranks.returncode == 0, runs.ranks.stderr
    run_dir = runs.run_dir("ranks", "rank0")
    assert (run_dir / "curves.png").is_file()
    assert (run_dir / "test_metrics.json").is_file()
    assert [path.name for path in (runs.cwd / "rank1").iterdir()] == []
    environment = (run_dir / "env.json").read_text()
    assert '"world_size": 2' in environment
    assert '"launcher": "torchrun"' in environment


def test_two_ranks_equal_one_process_accumulating_two_batches(runs: Runs) -> None:
    assert runs.accumulated.returncode == 0, runs.accumulated.stderr
    two = without_timing(read_metrics(runs.run_dir("ranks", "rank0")))
    one = without_timing(read_metrics(runs.cwd / "experiments/results/accumulated"))
    assert len(two) == len(one) == 3
    for row_two, row_one in zip(two, one, strict=True):
        # The epoch's loss sum adds the same float32 batch losses in another order
        # (rank 0's, then rank 1's): float64 rounding of 64 terms stays below 1e-14.
        assert float(row_two.pop("train_loss")) == pytest.approx(
            float(row_one.pop("train_loss")), rel=1e-12
        )
        assert row_two == row_one
    weights_two = _final_weights(runs.run_dir("ranks", "rank0"))
    weights_one = _final_weights(runs.cwd / "experiments/results/accumulated")
    for name, tensor in weights_one.items():
        assert torch.equal(weights_two[name], tensor), name


def _final_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    last = torch.load(run_dir / "checkpoints/last.pt", weights_only=True)
    return last["model"]


def test_signal_to_one_rank_stops_both_at_the_same_step(runs: Runs) -> None:
    match = STOPPED.search(runs.stopped_log)
    assert match, runs.stopped_log
    step = int(match.group(1))
    assert 5 <= step < STEPS
    checkpoint = runs.checkpoint
    assert checkpoint["world_size"] == 2
    assert (checkpoint["epoch"], checkpoint["step_in_epoch"]) == (2, step)
    states = checkpoint["rank_states"]
    assert [int(state["train_accumulator"]["counts"].sum()) for state in states] == [
        step * 8
    ] * 2
    # Each rank saw its own samples and drew its own dropout masks.
    assert not torch.equal(states[0]["rng"]["torch"], states[1]["rng"]["torch"])
    assert not torch.equal(
        states[0]["train_accumulator"]["probs"], states[1]["train_accumulator"]["probs"]
    )


def test_resumed_two_rank_run_equals_the_uninterrupted_one(runs: Runs) -> None:
    assert runs.reference.returncode == 0, runs.reference.stderr
    assert runs.resumed.returncode == 0, runs.resumed.stderr
    assert "resuming" in runs.resumed.stderr
    resumed = without_timing(read_metrics(runs.run_dir("stopped")))
    reference = without_timing(read_metrics(runs.run_dir("reference")))
    assert [row["epoch"] for row in resumed] == ["1", "2", "3"]
    assert resumed == reference


def test_resuming_with_another_world_size_is_refused(
    runs: Runs,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_dir = runs.run_dir("reference")
    before = (run_dir / "env.json").read_bytes()
    monkeypatch.chdir(runs.cwd)
    assert ml_train_main(["--resume", str(run_dir)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1
    assert "checkpointed with 2 processes, this launch has 1" in error[0]
    assert (run_dir / "env.json").read_bytes() == before


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, Launch()),
        (
            {
                "RANK": "1",
                "WORLD_SIZE": "2",
                "LOCAL_RANK": "1",
                "MASTER_ADDR": "node7",
                "MASTER_PORT": "29400",
            },
            Launch(1, 2, 1, "node7", 29400, "torchrun"),
        ),
        (
            {
                "SLURM_PROCID": "3",
                "SLURM_STEP_NUM_TASKS": "4",
                "SLURM_LOCALID": "1",
                "SLURM_JOB_ID": "123456",
                "MASTER_ADDR": "gcn12",
            },
            Launch(3, 4, 1, "gcn12", 20000 + 123456 % 20000, "srun"),
        ),
        # The batch shell of a multi-task job is not an srun step: one process.
        ({"SLURM_PROCID": "0", "SLURM_NTASKS": "4"}, Launch()),
    ],
)
def test_detect_launch(environ: dict[str, str], expected: Launch) -> None:
    assert detect_launch(environ) == expected

"""Fixtures for the training tests: a small synthetic PCAM and ``ml-train`` runners.

Runs are real processes of the console scripts (forked from a pre-imported server,
or fresh interpreters where start-up is what is tested), with ``ML_CORE_CACHE``
pointing at the session's temporary cache (set by tests/conftest.py).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import torch

from ml_core.contract import METRIC_COLUMNS
from ml_core.data import write_synthetic_pcam
from tests.forked_cli import run_forked
from tests.metrics_rows import metrics_rows

BIN = Path(sys.executable).parent

# Small enough to be quick, big enough that the MLP learns and an epoch has 64 steps
# (a signal sent at step 5 lands well inside the epoch).
TRAIN_SAMPLES, BATCH_SIZE = 512, 8


@pytest.fixture(autouse=True)
def restore_torch_globals() -> Iterator[None]:
    """Undo what an in-process ``ml-train`` sets process-wide (threads, determinism)."""
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(mode=deterministic)


@pytest.fixture(scope="session")
def train_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic PCAM directory with 512/64/64 samples (read-only for tests)."""
    out = tmp_path_factory.mktemp("train_pcam") / "pcam"
    return write_synthetic_pcam(
        out, n_train=TRAIN_SAMPLES, n_valid=64, n_test=64, seed=0
    )


def run_overrides(data_dir: Path, name: str, *settings: str) -> list[str]:
    """``--set`` flags for a run ``name`` on ``data_dir`` in batches of 8, then ``settings``.

    One CPU thread in every run: the thread count can change the last bits of float
    sums, and runs with DataLoader workers otherwise get fewer threads (see
    ``ml_core.train._device.set_cpu_threads``).
    """
    base = [
        f"experiment_name={name}",
        "data.dataset_type=pcam",
        f"data.data_path={data_dir}",
        f"data.batch_size={BATCH_SIZE}",
        "training.cpu_threads=1",
    ]
    return [flag for setting in (*base, *settings) for flag in ("--set", setting)]


def small_run_overrides(data_dir: Path, name: str, *extra: str) -> list[str]:
    """``--set`` flags for a 3-epoch run of a small MLP on ``data_dir``."""
    return run_overrides(
        data_dir,
        name,
        "data.in_memory=true",
        "model.hidden_units=[16]",
        "training.epochs=3",
        "training.learning_rate=0.0003",
        # Resume must restore these too: a schedule's state, clipping, AdamW's moments.
        "training.optimizer=adamw",
        "training.lr_schedule=cosine",
        "training.grad_clip_norm=1.0",
        "training.log_every_seconds=0",
        # Every step answers a stop signal (a signal sent at step 5 lands mid-epoch).
        "training.sync_every_steps=1",
        *extra,
    )


def cli(name: str) -> str:
    """Path of an installed console script of this environment."""
    return str(BIN / name)


def run_cli(
    name: str, args: Sequence[str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run console script ``name args`` in ``cwd`` as its own process, forked from the
    pre-imported server (:mod:`tests.forked_cli`), and capture its output."""
    return run_forked(name, args, cwd, timeout=timeout)


def run_installed(
    name: str, args: Sequence[str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the installed console script ``name args`` in a fresh interpreter."""
    return subprocess.run(
        [cli(name), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def read_metrics(run_dir: Path) -> list[dict[str, str]]:
    """metrics.csv rows, checking the header is the contract's column order."""
    rows = metrics_rows(run_dir)
    assert rows, f"{run_dir}: no metrics.csv rows"
    assert tuple(rows[0]) == METRIC_COLUMNS
    return rows


def run_directory_line(stdout: str) -> Path:
    """The path from the last stdout line, ``run directory: <path>``."""
    last = stdout.strip().splitlines()[-1]
    prefix = "run directory: "
    assert last.startswith(prefix), stdout
    return Path(last[len(prefix) :])

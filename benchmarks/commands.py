"""Whole commands timed as a user runs them: wall seconds and the process's peak RSS.

Used for the full-size rows (``ml-data check``, ``ml-viz eda``, an ``ml-train`` epoch
streaming from disk and one from RAM) and the data-parallel rows (``ml-train`` under
``torchrun`` with 1 and N processes). Peak RSS is the child's own, from ``wait4``.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent


class BenchError(RuntimeError):
    """A timed command failed; the message ends with its last stderr line."""


@dataclass(frozen=True)
class CommandRow:
    """One timed command: what it did, wall seconds, peak RSS (GB), trainer metrics."""

    name: str
    wall_seconds: float
    peak_rss_gb: float
    val_auroc: float | None = None
    samples_per_second: float | None = None


def timed(name: str, command: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS in GB) of ``command``; BenchError if it fails."""
    log = cwd / f"{name.replace(' ', '_').replace('/', '_')}.log"
    began = time.perf_counter()
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=cwd, stdout=output, stderr=output)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - began
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        lines = log.read_text().strip().splitlines() or ["no output"]
        raise BenchError(f"{name} exited {process.returncode}: {lines[-1]}")
    return wall, usage.ru_maxrss / 1024**2  # kilobytes on Linux


def train_row(name: str, command: list[str], cwd: Path, run_name: str) -> CommandRow:
    """Time an ``ml-train`` command and read its last epoch's metrics."""
    wall, rss = timed(name, command, cwd)
    with (cwd / "experiments/results" / run_name / "metrics.csv").open() as handle:
        last = list(csv.DictReader(handle))[-1]
    return CommandRow(
        name,
        wall,
        rss,
        float(last["val_auroc"]),
        float(last["samples_per_second"]),
    )


def trainer(*args: str) -> list[str]:
    return [str(BIN / "ml-train"), *args]


def settings(*pairs: str) -> list[str]:
    return [flag for pair in pairs for flag in ("--set", pair)]


def full_size_rows(data_dir: Path, workdir: Path, batch_size: int) -> list[CommandRow]:
    """check, EDA, and one training epoch streaming (disk) and in RAM, at full size."""
    rows = []
    for name, command in (
        ("ml-data check", [str(BIN / "ml-data"), "check", str(data_dir)]),
        ("ml-viz eda", [str(BIN / "ml-viz"), "eda", str(data_dir), "--out", "eda"]),
    ):
        rows.append(CommandRow(name, *timed(name, command, workdir)))
    for location in ("disk", "ram"):
        run = f"full-{location}"
        command = trainer(
            *settings(
                f"experiment_name={run}",
                "data.dataset_type=pcam",
                f"data.data_path={data_dir}",
                f"data.split_location={location}",
                f"data.batch_size={batch_size}",
                "training.epochs=1",
                "training.log_every_seconds=30",
            )
        )
        rows.append(train_row(f"ml-train epoch, {location}", command, workdir, run))
    return rows


def distributed_rows(
    data_dir: Path, workdir: Path, ranks: int, device: str, batch_size: int
) -> list[CommandRow]:
    """One device-resident epoch of ml-train with 1 and ``ranks`` processes."""
    rows = []
    for world in (1, ranks):
        run = f"ddp-{world}"
        command = [
            str(BIN / "torchrun"),
            "--standalone",
            f"--nproc-per-node={world}",
            *trainer(
                "--device",
                device,
                *settings(
                    f"experiment_name={run}",
                    "data.dataset_type=pcam",
                    f"data.data_path={data_dir}",
                    "data.split_location=device",
                    f"data.batch_size={batch_size}",
                    "training.epochs=1",
                ),
            ),
        ]
        label = f"ml-train under torchrun, {world} x {device}"
        rows.append(train_row(label, command, workdir, run))
    return rows

"""Loader benchmark: the course's naive per-sample loader against our loading modes.

Every loader reads the same generated file (:mod:`ml_core.data.bench_data`) with
batches of 32 (``batch_size``). Each batch is made model-ready on the target device
(float32 [0, 1] images, long labels: a host-to-device copy and, for uint8 batches, the
conversion there); with ``train`` every loader is timed a second time with one Adam step
of the course's baseline MLP per batch (bf16 autocast on CUDA). Each measurement runs one
warm-up epoch, then ``epochs`` timed epochs; the fastest timed epoch counts (steady
state: on a shared machine the slower ones measure the neighbours).

With ``ranks`` >= 2 the device-resident MLP epoch is also timed under DDP with 1 and N
processes (:mod:`ml_core.data.bench_distributed` under torchrun).

The naive loader is timed on at most :data:`NAIVE_MAX_SAMPLES` samples per epoch (a
random subset, as its shuffled epoch would start); its epoch seconds are extrapolated
to the whole split, which the ``timed_samples`` column says.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler
from torchvision.transforms import ToTensor

from ml_core.data.bench_data import write_bench_pcam
from ml_core.data.bench_training import TrainingStep, model_ready
from ml_core.data.device_loader import get_device_dataloaders
from ml_core.data.layout import split_paths
from ml_core.data.loader import get_dataloaders, resumable_sampler

BATCH_SIZE = 32
NAIVE_MAX_SAMPLES = 16384
TASKS = ("loader", "train")

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]


class NaiveCourseDataset(Dataset):
    """The course's pattern: one h5 read per index, NaN/clip/cast, then ToTensor."""

    def __init__(self, x_path: Path, y_path: Path) -> None:
        self.x_path, self.y_path = x_path, y_path
        with h5py.File(y_path, "r") as file:
            self.length = len(file["y"])
        self.files: tuple[h5py.File, h5py.File] | None = None
        self.transform = ToTensor()

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if self.files is None:
            self.files = (h5py.File(self.x_path, "r"), h5py.File(self.y_path, "r"))
        image = self.files[0]["x"][index]
        image = np.clip(np.nan_to_num(image, nan=0.0), 0, 255).astype(np.uint8)
        label = torch.tensor(int(self.files[1]["y"][index].item()), dtype=torch.long)
        return self.transform(image), label


@dataclass(frozen=True)
class BenchResult:
    """Throughput of one loader for one task (``loader`` only, or ``train``)."""

    loader: str
    task: str
    samples_per_second: float
    epoch_seconds: float
    setup_seconds: float
    speedup: float
    timed_samples: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


@dataclass(frozen=True)
class BenchLoader:
    """A built loader: what to iterate, what to call before each epoch, its cost."""

    name: str
    batches: Batches
    start_epoch: Callable[[int], None]
    setup_seconds: float
    timed_samples: int


@dataclass(frozen=True)
class BenchSettings:
    """What every loader is measured with."""

    n_samples: int
    epochs: int
    num_workers: int
    batch_size: int
    device: torch.device


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed_epochs(
    loader: BenchLoader, settings: BenchSettings, step: TrainingStep | None
) -> float:
    """Seconds of the fastest of ``epochs`` epochs after a warm-up epoch."""
    timings = []
    for epoch in range(settings.epochs + 1):
        loader.start_epoch(epoch)
        _synchronize(settings.device)
        started = time.perf_counter()
        for raw_images, raw_labels in loader.batches:
            images, labels = model_ready(raw_images, raw_labels, settings.device)
            if step is not None:
                step(images, labels)
        _synchronize(settings.device)
        timings.append(time.perf_counter() - started)
    if step is not None and not np.isfinite(step.mean_loss()):
        raise ArithmeticError("bench: training loss is not finite")
    return min(timings[1:])


def _no_epoch_setup(epoch: int) -> None:
    del epoch


@contextmanager
def _naive(data_dir: Path, settings: BenchSettings) -> Iterator[BenchLoader]:
    started = time.perf_counter()
    dataset = NaiveCourseDataset(*split_paths(data_dir, "train"))
    timed = min(len(dataset), NAIVE_MAX_SAMPLES)
    # DataLoader(shuffle=True) draws a RandomSampler like this one; it reshuffles by
    # itself each epoch, so there is nothing to set per epoch.
    loader = DataLoader(
        dataset,
        batch_size=settings.batch_size,
        sampler=RandomSampler(dataset, num_samples=timed),
        num_workers=settings.num_workers,
    )
    setup = time.perf_counter() - started
    name = "naive course loader (per-index h5, ToTensor)"
    yield BenchLoader(name, loader, _no_epoch_setup, setup, timed)


def _course_config(data_dir: Path, settings: BenchSettings, **data: Any) -> dict:
    options = {
        "data_path": str(data_dir),
        "batch_size": settings.batch_size,
        "num_workers": settings.num_workers,
    }
    return {"seed": 0, "data": options | data}


@contextmanager
def _ours(
    data_dir: Path, settings: BenchSettings, *, in_memory: bool
) -> Iterator[BenchLoader]:
    # uint8 batches when a GPU converts them; float32 on the CPU, like the course.
    config = _course_config(
        data_dir,
        settings,
        in_memory=in_memory,
        uint8_batches=settings.device.type == "cuda",
        pin_memory=settings.device.type == "cuda",
    )
    started = time.perf_counter()
    train, _ = get_dataloaders(config)
    setup = time.perf_counter() - started
    name = "ml_core.data, in_memory=true" if in_memory else "ml_core.data, streaming h5"
    start_epoch = resumable_sampler(train).set_epoch
    yield BenchLoader(name, train, start_epoch, setup, settings.n_samples)


@contextmanager
def _device_resident(data_dir: Path, settings: BenchSettings) -> Iterator[BenchLoader]:
    started = time.perf_counter()
    train, _ = get_device_dataloaders(
        _course_config(data_dir, settings), settings.device
    )
    _synchronize(settings.device)
    setup = time.perf_counter() - started
    where = "on device" if train.resident else "host + prefetch"
    name = f"ml_core.data, device_resident ({settings.device.type}, {where})"
    start_epoch = resumable_sampler(train).set_epoch
    try:
        yield BenchLoader(name, train, start_epoch, setup, settings.n_samples)
    finally:
        del train
        if settings.device.type == "cuda":
            torch.cuda.empty_cache()


def run_benchmark(
    *,
    n_samples: int = 4096,
    epochs: int = 3,
    num_workers: int = 0,
    device: str = "cpu",
    train: bool = True,
    batch_size: int = BATCH_SIZE,
    ranks: int = 0,
) -> list[BenchResult]:
    """Time the naive loader and ours (streaming, in RAM, device-resident) on one
    generated file: loader only, then (``train``) with a training step per batch.

    With ``ranks`` >= 2, also a DDP training epoch of the device-resident mode with 1
    and with ``ranks`` processes under torchrun (task ``ddp``; per-rank batch
    ``batch_size``; speed-up over the 1-rank run)."""
    settings = BenchSettings(
        n_samples, epochs, num_workers, batch_size, torch.device(device)
    )
    tasks = TASKS if train else TASKS[:1]
    rows: dict[str, list[tuple[str, float, int, float]]] = {task: [] for task in tasks}
    with tempfile.TemporaryDirectory(prefix="ml-data-bench-") as workdir:
        data_dir = write_bench_pcam(Path(workdir), n_samples)
        modes = (
            lambda: _naive(data_dir, settings),
            lambda: _ours(data_dir, settings, in_memory=False),
            lambda: _ours(data_dir, settings, in_memory=True),
            lambda: _device_resident(data_dir, settings),
        )
        for mode in modes:
            for task, row in _measure(mode, settings, tasks):
                rows[task].append(row)
        if ranks >= 2:
            tasks += ("ddp",)
            rows["ddp"] = [
                _ddp_row(data_dir, settings, world_size) for world_size in (1, ranks)
            ]
    return [
        result for task in tasks for result in _results(task, rows[task], n_samples)
    ]


class BenchError(RuntimeError):
    """A benchmark run failed (for instance a torchrun rank)."""


def _ddp_row(
    data_dir: Path, settings: BenchSettings, world_size: int
) -> tuple[str, float, int, float]:
    """(name, setup s, samples, seconds) of one torchrun DDP run."""
    out_json = data_dir / f"ddp-{world_size}.json"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        f"--nproc-per-node={world_size}",
        "-m", "ml_core.data.bench_distributed", str(data_dir), str(out_json),
        "--device", settings.device.type,
        "--batch-size", str(settings.batch_size),
        "--epochs", str(settings.epochs),
    ]  # fmt: skip
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise BenchError(f"torchrun with {world_size} rank(s) failed: {last}")
    measured = json.loads(out_json.read_text())
    seconds = measured["epoch_seconds"]
    unit = "GPU" if settings.device.type == "cuda" else "process"
    plural = {"GPU": "GPUs", "process": "processes"}[unit] if world_size > 1 else unit
    name = f"device_resident DDP, {world_size} {plural}"
    setup = time.perf_counter() - started - seconds * (settings.epochs + 1)
    return name, max(setup, 0.0), measured["samples"], seconds


def _measure(
    mode: Callable[[], AbstractContextManager[BenchLoader]],
    settings: BenchSettings,
    tasks: tuple[str, ...],
) -> list[tuple[str, tuple[str, float, int, float]]]:
    """(task, (name, setup s, timed samples, seconds)) per task for one loader.

    The loader dies with this call: the naive one holds its h5 files open, with a
    locking mode the next loader's reads would conflict with.
    """
    timings = []
    with mode() as loader:
        for task in tasks:
            step = TrainingStep(settings.device) if task == "train" else None
            seconds = _timed_epochs(loader, settings, step)
            row = (loader.name, loader.setup_seconds, loader.timed_samples, seconds)
            timings.append((task, row))
    return timings


def _results(
    task: str, rows: list[tuple[str, float, int, float]], n_samples: int
) -> list[BenchResult]:
    _, _, naive_samples, naive_seconds = rows[0]
    naive_rate = naive_samples / naive_seconds
    return [
        BenchResult(
            loader=name,
            task=task,
            samples_per_second=timed / seconds,
            epoch_seconds=seconds * n_samples / timed,
            setup_seconds=setup,
            speedup=(timed / seconds) / naive_rate,
            timed_samples=timed,
        )
        for name, setup, timed, seconds in rows
    ]


def multi_gpu_note(device: str, results: list[BenchResult]) -> str:
    """The table's last line: the 1 vs N comparison, or why it was not run."""
    ddp = [r for r in results if r.task == "ddp"]
    if ddp:
        return (
            f"1 vs N: {ddp[-1].loader.split(', ')[-1]} train at "
            f"{ddp[-1].speedup:.2f}x the samples/s of one ('x naive' of the ddp rows "
            "is over the 1-rank row)"
        )
    visible = torch.cuda.device_count() if device == "cuda" else 0
    return (
        f"1 vs N GPUs: not run ({visible} CUDA device(s) visible; needs --ranks >= 2)"
    )


def format_results(results: list[BenchResult]) -> str:
    """A table of samples/s and speed-up over the naive loader, per task."""
    header = (
        f"{'loader':<52} {'task':<6} {'samples/s':>10} {'epoch s':>8} "
        f"{'setup s':>8} {'x naive':>8}"
    )
    lines = [header, "-" * len(header)]
    lines += [
        f"{r.loader:<52} {r.task:<6} {r.samples_per_second:>10.0f} "
        f"{r.epoch_seconds:>8.2f} {r.setup_seconds:>8.2f} {r.speedup:>8.1f}"
        + ("" if r.timed_samples == _full(results) else f"  (timed {r.timed_samples})")
        for r in results
    ]
    return "\n".join(lines)


def _full(results: list[BenchResult]) -> int:
    return max(r.timed_samples for r in results)

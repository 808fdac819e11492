"""Loader benchmark: the course's naive per-sample loader against the fast batch path.

All loaders read the same generated file and deliver float32 [0, 1] batches of 32 ready
for the model. Each loader runs one warm-up epoch, then ``epochs`` timed epochs; the
fastest timed epoch counts (steady state: on a shared machine the slower ones measure
the neighbours).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import ToTensor

from ml_core.data.layout import split_paths
from ml_core.data.loaders import get_dataloaders, resumable_sampler
from ml_core.data.synthetic import write_synthetic_pcam

BATCH_SIZE = 32


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
    """Throughput of one loader in its timed (last) epoch."""

    loader: str
    samples_per_second: float
    epoch_seconds: float
    setup_seconds: float
    speedup: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


def _timed_epochs(
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    epochs: int,
    start_epoch: Callable[[int], None],
) -> float:
    """Seconds of the fastest of ``epochs`` epochs after a warm-up epoch; checks that
    every batch is model-ready."""
    timings = []
    for epoch in range(epochs + 1):
        start_epoch(epoch)
        started = time.perf_counter()
        for images, labels in batches:
            if images.dtype != torch.float32 or labels.dtype != torch.long:
                raise TypeError(
                    f"bench: unexpected batch {images.dtype}/{labels.dtype}"
                )
        timings.append(time.perf_counter() - started)
    return min(timings[1:])


def run_benchmark(
    *, n_samples: int = 4096, epochs: int = 3, num_workers: int = 0
) -> list[BenchResult]:
    """Time the naive loader and ours (streaming, in RAM) on one generated file."""
    with tempfile.TemporaryDirectory(prefix="ml-data-bench-") as workdir:
        data_dir = write_synthetic_pcam(
            Path(workdir), n_train=n_samples, n_valid=1, n_test=1, seed=0
        )
        timings = [
            _naive(data_dir, epochs, num_workers),
            _ours(data_dir, epochs, num_workers, in_memory=False),
            _ours(data_dir, epochs, num_workers, in_memory=True),
        ]
    naive_rate = n_samples / timings[0][1]
    return [
        BenchResult(
            loader=name,
            samples_per_second=n_samples / seconds,
            epoch_seconds=seconds,
            setup_seconds=setup,
            speedup=(n_samples / seconds) / naive_rate,
        )
        for name, seconds, setup in timings
    ]


def _no_epoch_setup(epoch: int) -> None:
    del epoch


def _naive(data_dir: Path, epochs: int, num_workers: int) -> tuple[str, float, float]:
    started = time.perf_counter()
    dataset = NaiveCourseDataset(*split_paths(data_dir, "train"))
    loader = DataLoader(
        dataset, batch_size=BATCH_SIZE, shuffle=True, num_workers=num_workers
    )
    setup = time.perf_counter() - started
    # DataLoader(shuffle=True) reshuffles by itself each epoch: nothing to set.
    seconds = _timed_epochs(loader, epochs, _no_epoch_setup)
    return "naive course loader (per-index h5, ToTensor)", seconds, setup


def _ours(
    data_dir: Path, epochs: int, num_workers: int, *, in_memory: bool
) -> tuple[str, float, float]:
    config = {
        "seed": 0,
        "data": {
            "data_path": str(data_dir),
            "batch_size": BATCH_SIZE,
            "num_workers": num_workers,
            "in_memory": in_memory,
        },
    }
    started = time.perf_counter()
    train, _ = get_dataloaders(config)
    setup = time.perf_counter() - started
    seconds = _timed_epochs(train, epochs, resumable_sampler(train).set_epoch)
    name = "ml_core.data, in_memory=true" if in_memory else "ml_core.data, streaming h5"
    return name, seconds, setup


def format_results(results: list[BenchResult]) -> str:
    """A table of samples/s and speed-up over the naive loader."""
    header = (
        f"{'loader':<46} {'samples/s':>10} {'epoch s':>8} {'setup s':>8} {'x naive':>8}"
    )
    lines = [header, "-" * len(header)]
    lines += [
        f"{r.loader:<46} {r.samples_per_second:>10.0f} {r.epoch_seconds:>8.2f} "
        f"{r.setup_seconds:>8.2f} {r.speedup:>8.1f}"
        for r in results
    ]
    return "\n".join(lines)

"""Loader and training-epoch timings: the course's naive loader against ml_core's.

Every loader reads the same files with the same batch size. A loader row times one pass
making each batch model-ready on the device; a training row times one epoch of the real
``ml_core.train._loop.train_one_epoch`` with the real ``build_model`` model. One warm-up
epoch, then the fastest of ``epochs`` (on a shared machine the slower ones measure the
neighbours). The naive loader is timed on at most :data:`NAIVE_MAX_SAMPLES` samples.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import h5py
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, RandomSampler
from torchvision.transforms import ToTensor

from ml_core.data import DataConfig, make_loaders, resumable_sampler, split_paths
from ml_core.models import build_model, count_parameters
from ml_core.train._loop import InputNormalization, to_device, train_one_epoch
from ml_core.train._metrics import EpochAccumulator
from ml_core.train._progress import ProgressReporter
from ml_core.train._stop_signals import StopFlag

NAIVE_MAX_SAMPLES = 16384
NORMALIZATION = InputNormalization([0.5] * 3, [0.25] * 3)


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
class Row:
    """One measured line: what, which task, samples/s and the epoch's seconds."""

    name: str
    task: str
    samples_per_second: float
    epoch_seconds: float
    timed_samples: int
    speedup: float = 1.0


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _fastest_epoch(
    batches: Iterable, start: object, device: torch.device, epochs: int, work: object
) -> float:
    timings = []
    for epoch in range(epochs + 1):
        if start is not None:
            start(epoch)
        _sync(device)
        began = time.perf_counter()
        work(batches)
        _sync(device)
        timings.append(time.perf_counter() - began)
    return min(timings[1:])


def _pass_only(device: torch.device) -> object:
    def run(batches: Iterable) -> None:
        for images, labels in batches:
            to_device(images, labels, device)

    return run


def _train_epoch(model_name: str, device: torch.device) -> object:
    torch.manual_seed(0)
    model = build_model({"name": model_name}, [3, 96, 96]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def run(batches: Iterable) -> None:
        accumulator = EpochAccumulator()
        train_one_epoch(
            model,
            nn.CrossEntropyLoss(),
            optimizer,
            batches,
            device=device,
            first_step=0,
            steps_per_epoch=len(batches),
            accumulator=accumulator,
            progress=ProgressReporter(
                epochs=1, steps_per_epoch=1, log_every_seconds=1e9, use_bar=False
            ),
            stop=StopFlag(),
            normalization=NORMALIZATION,
        )
        if not np.isfinite(accumulator.compute()["loss"]):
            raise ArithmeticError(f"bench: {model_name} training loss is not finite")

    run.parameters = count_parameters(model)  # type: ignore[attr-defined]
    return run


def loader_rows(
    data_dir: Path,
    *,
    batch_size: int,
    num_workers: int,
    epochs: int,
    device: torch.device,
    train: bool,
) -> list[Row]:
    """Naive, disk, RAM and device loaders: a pass, then (``train``) an MLP epoch.

    Each loader is measured and released before the next is built: the naive one holds
    its h5 files open with HDF5 locking, which ml_core's lock-free reads conflict with.
    """
    config = DataConfig(
        dataset_type="pcam",
        data_path=data_dir,
        batch_size=batch_size,
        num_workers=num_workers,
    )
    tasks = ("loader", "train") if train else ("loader",)
    measured: dict[str, list[Row]] = {task: [] for task in tasks}
    for location in ("naive", "disk", "ram", "device"):
        if location == "naive":
            dataset = NaiveCourseDataset(*split_paths(data_dir, "train"))
            samples = min(len(dataset), NAIVE_MAX_SAMPLES)
            loader = DataLoader(
                dataset,
                batch_size=batch_size,
                sampler=RandomSampler(dataset, num_samples=samples),
                num_workers=num_workers,
            )
            name, start = "naive course loader (per-index h5, ToTensor)", None
        else:
            loader, _ = make_loaders(
                replace(config, split_location=location), seed=0, device=device
            )
            samples = resumable_sampler(loader).num_samples
            name = f"ml_core.data, split_location={location}"
            start = resumable_sampler(loader).set_epoch
        for task in tasks:
            work = (
                _pass_only(device) if task == "loader" else _train_epoch("mlp", device)
            )
            seconds = _fastest_epoch(loader, start, device, epochs, work)
            measured[task].append(Row(name, task, samples / seconds, seconds, samples))
        del loader
        if location == "naive" and dataset.files is not None:
            for file in dataset.files:
                file.close()
    rows = []
    for task_rows in measured.values():
        naive_rate = task_rows[0].samples_per_second
        rows += [
            replace(r, speedup=r.samples_per_second / naive_rate) for r in task_rows
        ]
    return rows


def model_rows(
    data_dir: Path,
    models: list[str],
    *,
    batch_size: int,
    epochs: int,
    device: torch.device,
) -> list[tuple[str, int, float]]:
    """(model, parameters, train samples/s) per model: device-resident batches."""
    config = DataConfig(
        dataset_type="pcam",
        data_path=data_dir,
        batch_size=batch_size,
        split_location="device",
    )
    train_loader, _ = make_loaders(config, seed=0, device=device)
    start = resumable_sampler(train_loader).set_epoch
    samples = resumable_sampler(train_loader).num_samples
    rows = []
    for name in models:
        work = _train_epoch(name, device)
        seconds = _fastest_epoch(train_loader, start, device, epochs, work)
        rows.append((name, work.parameters, samples / seconds))  # type: ignore[attr-defined]
    return rows

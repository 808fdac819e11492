"""The GPU fast path: ``data.split_location: device`` reaches the device loaders; on a CUDA
device (tests marked ``gpu``, skipped elsewhere) the device-resident batches and a short
bf16 training run agree with the CPU path."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from ml_core.data import (
    DataConfig,
    make_loaders,
    make_split_loader,
    resumable_sampler,
)
from ml_core.models import build_model
from ml_core.train import build_config
from ml_core.train._loop import InputNormalization, autocast, to_device
from tests.metrics_rows import without_timing

from .conftest import read_metrics, run_cli, run_directory_line, small_run_overrides

needs_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device"
)
PCAM_SHAPE = (3, 96, 96)
NORMALIZATION = InputNormalization([0.7, 0.55, 0.7], [0.2, 0.25, 0.2])


def _loader_config(data_dir: Path, **data: object) -> DataConfig:
    raw = {"data": {"dataset_type": "pcam", "data_path": str(data_dir), **data}}
    return build_config(raw, source="test", default_experiment_name="gpu").data


def get_split_loader(config: DataConfig, split: str) -> object:
    host = DataConfig(**{**vars(config), "split_location": "ram"})
    return make_split_loader(host, split)


def test_device_resident_key_reaches_the_device_loaders(train_data_dir: Path) -> None:
    assert _loader_config(train_data_dir).split_location == "disk"
    config = _loader_config(train_data_dir, device_resident=True, batch_size=64)
    assert config.split_location == "device"
    train, val = make_loaders(config, seed=0, device=torch.device("cpu"))
    assert train.resident
    assert len(train) == len(resumable_sampler(train)) == 8
    images, labels = next(iter(val))
    assert images.dtype == torch.uint8
    assert labels.dtype == torch.long


@pytest.mark.slow
def test_ml_train_device_resident_on_cpu_matches_host_loaders(
    train_data_dir: Path, tmp_path: Path
) -> None:
    """On the CPU the device loaders draw the host loaders' order: same metrics."""
    rows = []
    for resident in ("false", "true"):
        overrides = small_run_overrides(
            train_data_dir, f"resident-{resident}", f"data.device_resident={resident}"
        )
        result = run_cli("ml-train", overrides, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        run_dir = tmp_path / run_directory_line(result.stdout)
        rows.append(without_timing(read_metrics(run_dir)))
    assert rows[0] == rows[1]
    evaluated = run_cli("ml-eval", [str(run_dir), "--split", "valid"], cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr


def _train_and_score(
    train_batches: list, val_batches: list, device: torch.device, *, bf16: bool
) -> tuple[float, float]:
    """One pass of Adam over ``train_batches`` from a fixed init, then the mean
    validation loss and accuracy."""
    torch.manual_seed(0)
    # No dropout: CUDA draws other masks than the CPU from the same seed.
    options = {"name": "mlp", "hidden_units": [64, 32], "dropout_rate": 0.0}
    model = build_model(options, PCAM_SHAPE)
    model = model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    criterion = nn.CrossEntropyLoss()
    model.train()
    for raw_images, raw_labels in train_batches:
        images, labels = to_device(
            raw_images, raw_labels, device, normalization=NORMALIZATION
        )
        with autocast(device, bf16=bf16):
            logits = model(images)
        loss = criterion(logits.float(), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    model.eval()
    losses, correct, seen = [], 0, 0
    with torch.no_grad():
        for raw_images, raw_labels in val_batches:
            images, labels = to_device(
                raw_images, raw_labels, device, normalization=NORMALIZATION
            )
            with autocast(device, bf16=bf16):
                logits = model(images).float()
            losses.append(criterion(logits, labels).item() * len(labels))
            correct += int((logits.argmax(1) == labels).sum())
            seen += len(labels)
    return sum(losses) / seen, correct / seen


@pytest.mark.gpu
@needs_cuda
def test_cuda_device_batches_equal_the_cpu_batches(train_data_dir: Path) -> None:
    config = _loader_config(train_data_dir, device_resident=True, batch_size=32)
    cuda = torch.device("cuda")
    ordered = make_split_loader(config, "train", device=cuda)
    fallback = make_split_loader(config, "train", device=cuda, memory_budget=0)
    assert ordered.resident
    assert not fallback.resident
    cpu_batches = list(get_split_loader(config, "train"))
    for loader in (ordered, fallback):
        batches = list(loader)
        assert len(batches) == len(cpu_batches)
        pairs = zip(batches, cpu_batches, strict=True)
        for (images, labels), (ref_images, ref_labels) in pairs:
            assert images.is_cuda
            assert labels.is_cuda
            assert torch.equal(images.cpu(), ref_images)
            assert torch.equal(labels.cpu(), ref_labels)
    # Balanced, seeded and resumable on the device, resident or prefetched alike.
    resident_train, _ = make_loaders(config, seed=0, device=cuda)
    prefetched_train, _ = make_loaders(config, seed=0, device=cuda, memory_budget=0)
    epochs = []
    for loader in (resident_train, prefetched_train):
        sampler = resumable_sampler(loader)
        sampler.set_epoch(1)
        sampler.skip_batches(3)
        epochs.append([labels.cpu() for _, labels in loader])
    assert len(epochs[0]) == len(resident_train) - 3
    assert all(torch.equal(a, b) for a, b in zip(*epochs, strict=True))
    share = torch.cat(epochs[0]).float().mean().item()
    assert 0.35 < share < 0.65


@pytest.mark.gpu
@needs_cuda
def test_cuda_training_matches_the_cpu_path(train_data_dir: Path) -> None:
    """The same batches in the same order: CPU float32 vs device-resident CUDA, in
    float32 (close) and in bf16 autocast (looser: ~3 significant digits per op)."""
    config = _loader_config(train_data_dir, device_resident=True, batch_size=16)
    cuda = torch.device("cuda")
    cpu_loss, cpu_acc = _train_and_score(
        list(get_split_loader(config, "train")),
        list(get_split_loader(config, "valid")),
        torch.device("cpu"),
        bf16=False,
    )
    cuda_train = list(make_split_loader(config, "train", device=cuda))
    cuda_val = list(make_split_loader(config, "valid", device=cuda))
    fp32_loss, fp32_acc = _train_and_score(cuda_train, cuda_val, cuda, bf16=False)
    assert fp32_loss == pytest.approx(cpu_loss, rel=0.02)
    assert abs(fp32_acc - cpu_acc) <= 0.05
    # On the CPU, bf16 autocast moved this run's loss by < 0.01 (0.217 -> 0.224) and
    # not its accuracy; a broken conversion or normalisation lands near chance.
    bf16_loss, bf16_acc = _train_and_score(cuda_train, cuda_val, cuda, bf16=True)
    assert abs(bf16_loss - cpu_loss) <= 0.05
    assert abs(bf16_acc - cpu_acc) <= 0.05


@pytest.mark.gpu
@pytest.mark.slow
@needs_cuda
def test_ml_train_on_cuda_matches_cpu_metrics(
    train_data_dir: Path, tmp_path: Path
) -> None:
    """Three epochs of ml-train: CPU vs CUDA float32 (close) and CUDA bf16 (looser)."""
    runs = {
        "cpu": ("cpu", "false", "false"),
        "fp32": ("cuda", "false", "true"),
        "bf16": ("cuda", "true", "true"),
    }
    rows = {}
    for name, (device, bf16, resident) in runs.items():
        overrides = small_run_overrides(
            train_data_dir,
            f"run-{name}",
            f"training.bf16={bf16}",
            f"data.device_resident={resident}",
            "model.dropout_rate=0.0",  # CUDA draws other dropout masks than the CPU
        )
        result = run_cli(
            "ml-train", ["--device", device, *overrides], cwd=tmp_path, timeout=300
        )
        assert result.returncode == 0, result.stderr
        rows[name] = read_metrics(tmp_path / run_directory_line(result.stdout))
    assert len(rows["cpu"]) == len(rows["fp32"]) == len(rows["bf16"]) == 3
    for name, loss_tolerance, acc_tolerance in (
        ("fp32", 0.02, 0.05),
        ("bf16", 0.2, 0.1),
    ):
        for cpu_row, cuda_row in zip(rows["cpu"], rows[name], strict=True):
            for column in ("train_loss", "val_loss"):
                difference = abs(float(cuda_row[column]) - float(cpu_row[column]))
                assert difference <= loss_tolerance, (name, column, cpu_row, cuda_row)
            accuracy_gap = abs(float(cuda_row["val_acc"]) - float(cpu_row["val_acc"]))
            assert accuracy_gap <= acc_tolerance, (name, cpu_row, cuda_row)

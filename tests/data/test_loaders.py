"""get_dataloaders / get_test_loader / resumable_sampler per the team contract."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
import torch

from ml_core.contract import ConfigError
from ml_core.data import (
    DataError,
    PCAMDataset,
    get_dataloaders,
    get_test_loader,
    resumable_sampler,
    split_paths,
)


def _config(path: Path, **options: Any) -> dict[str, Any]:
    data = {"data_path": str(path), "batch_size": 16, "num_workers": 0}
    return {"seed": options.pop("seed", 0), "data": data | options}


def _labels(loader: Any) -> list[list[int]]:
    return [labels.tolist() for _, labels in loader]


def test_batches_are_float_0_1_with_long_labels(tiny_pcam_dir: Path) -> None:
    train, val = get_dataloaders(_config(tiny_pcam_dir))
    images, labels = next(iter(train))
    assert images.shape == (16, 3, 96, 96)
    assert images.dtype == torch.float32
    assert images.is_contiguous()
    assert float(images.min()) >= 0.0
    assert float(images.max()) <= 1.0
    assert labels.shape == (16,)
    assert labels.dtype == torch.long
    assert len(train) == 6
    assert len(val) == 3


def test_val_batches_equal_course_dataset_in_file_order(tiny_pcam_dir: Path) -> None:
    _, val = get_dataloaders(_config(tiny_pcam_dir, batch_size=20))
    images = torch.cat([batch for batch, _ in val])
    labels = torch.cat([batch for _, batch in val])
    course = PCAMDataset(*split_paths(tiny_pcam_dir, "valid"))
    assert torch.equal(images, torch.stack([course[i][0] / 255 for i in range(48)]))
    assert torch.equal(labels, torch.stack([course[i][1] for i in range(48)]))
    assert _labels(val) == _labels(val)


def test_uint8_batches_for_device_side_conversion(tiny_pcam_dir: Path) -> None:
    train, _ = get_dataloaders(_config(tiny_pcam_dir, uint8_batches=True))
    float_train, _ = get_dataloaders(_config(tiny_pcam_dir))
    images, _ = next(iter(train))
    assert images.dtype == torch.uint8
    assert images.shape == (16, 3, 96, 96)
    assert torch.equal(images.float() / 255, next(iter(float_train))[0])


def test_in_memory_gives_the_same_batches_as_streaming(tiny_pcam_dir: Path) -> None:
    streamed, _ = get_dataloaders(_config(tiny_pcam_dir, seed=4))
    in_ram, _ = get_dataloaders(_config(tiny_pcam_dir, seed=4, in_memory=True))
    for (a, la), (b, lb) in zip(streamed, in_ram, strict=True):
        assert torch.equal(a, b)
        assert torch.equal(la, lb)


@pytest.mark.parametrize("split_location", ["disk", "ram", "device"])
@pytest.mark.parametrize(("balance", "expected"), [(True, 20.0), (False, 8.0)])
def test_balance_draws_classes_equally(
    imbalanced_dir: Path, balance: bool, expected: float, split_location: str
) -> None:
    config = _config(
        imbalanced_dir, batch_size=40, balance=balance, split_location=split_location
    )
    train, _ = get_dataloaders(config)
    sampler = resumable_sampler(train)
    positives = []
    for epoch in range(30):
        sampler.set_epoch(epoch)
        _, labels = next(iter(train))
        positives.append(int(labels.sum()))
    # Positives in a batch of 40 vary by ~3 (binomial); the mean of 30 seeded batches
    # by ~0.6, so 2.0 is over 3 standard deviations (and the draw is seeded, not flaky).
    assert abs(np.mean(positives) - expected) < 2.0
    assert len(train) == 3  # 100 samples per epoch in batches of 40


def test_unbalanced_epoch_is_a_permutation(imbalanced_dir: Path) -> None:
    train, _ = get_dataloaders(_config(imbalanced_dir, balance=False))
    order = resumable_sampler(train).epoch_order()
    assert sorted(order.tolist()) == list(range(100))


def test_order_depends_only_on_seed_and_epoch(tiny_pcam_dir: Path) -> None:
    one_process, _ = get_dataloaders(_config(tiny_pcam_dir, seed=7))
    two_workers, _ = get_dataloaders(_config(tiny_pcam_dir, seed=7, num_workers=2))
    for loader in (one_process, two_workers):
        resumable_sampler(loader).set_epoch(3)
    assert _labels(one_process) == _labels(two_workers)
    sampler = resumable_sampler(one_process)
    epoch3 = sampler.epoch_order()
    sampler.set_epoch(4)
    assert not torch.equal(epoch3, sampler.epoch_order())
    other_seed, _ = get_dataloaders(_config(tiny_pcam_dir, seed=8))
    resumable_sampler(other_seed).set_epoch(3)
    assert not torch.equal(epoch3, resumable_sampler(other_seed).epoch_order())


def test_skip_batches_resumes_exactly_the_remaining_batches(
    tiny_pcam_dir: Path,
) -> None:
    train, _ = get_dataloaders(_config(tiny_pcam_dir, seed=1))
    sampler = resumable_sampler(train)
    sampler.set_epoch(2)
    full = list(train)
    sampler.skip_batches(4)
    resumed = list(train)
    assert len(resumed) == len(full) - 4
    for (a, la), (b, lb) in zip(full[4:], resumed, strict=True):
        assert torch.equal(a, b)
        assert torch.equal(la, lb)
    assert len(list(train)) == len(full)  # the skip applies once


def test_skip_batches_rejects_out_of_range(tiny_pcam_dir: Path) -> None:
    train, _ = get_dataloaders(_config(tiny_pcam_dir))
    with pytest.raises(ValueError, match="skip_batches"):
        resumable_sampler(train).skip_batches(len(train) + 1)


def test_filter_data_in_loaders(
    tmp_path: Path, make_pcam_split: Callable, patches: Callable
) -> None:
    images = patches(10)
    images[3] = 0
    make_pcam_split(tmp_path, "train", images, np.arange(10) % 2)
    make_pcam_split(tmp_path, "valid", images, np.arange(10) % 2)
    train, val = get_dataloaders(_config(tmp_path, filter_data=True, batch_size=4))
    assert len(train.dataset) == 9
    assert sum(len(labels) for _, labels in val) == 9


def test_test_loader_and_missing_test_split(
    tiny_pcam_dir: Path, imbalanced_dir: Path
) -> None:
    loader = get_test_loader(_config(tiny_pcam_dir))
    assert sum(len(labels) for _, labels in loader) == 48
    with pytest.raises(DataError, match=r"split_test_x\.h5: file not found"):
        get_test_loader(_config(imbalanced_dir))


def test_trainer_keys_are_ignored(tiny_pcam_dir: Path) -> None:
    config = _config(tiny_pcam_dir, dataset_type="pcam", input_shape=[3, 96, 96])
    train, _ = get_dataloaders(config)
    assert len(train) == 6


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch_size": 0}, "data.batch_size:"),
        ({"num_workers": -1}, "data.num_workers:"),
        ({"balance": "yes"}, "data.balance:"),
        ({"in_memory": 1}, "data.in_memory:"),
        ({"shuffle_buffer": 3}, "data.shuffle_buffer: unknown key"),
        ({"data_path": None}, "data.data_path:"),
    ],
)
def test_bad_options_raise_config_error_naming_the_key(
    tiny_pcam_dir: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=f"^{message}"):
        get_dataloaders(_config(tiny_pcam_dir, **options))


def test_missing_data_section_and_bad_seed(tiny_pcam_dir: Path) -> None:
    with pytest.raises(ConfigError, match=r"^data:"):
        get_dataloaders({"seed": 0})
    with pytest.raises(ConfigError, match=r"^seed:"):
        get_dataloaders(_config(tiny_pcam_dir, seed=-1))


def test_missing_data_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nowhere does not exist"):
        get_dataloaders(_config(tmp_path / "nowhere"))


@pytest.mark.parametrize("layout", ["chunked-gzip", "contiguous-float32"])
def test_every_h5_layout_reads_the_same_batches(
    tmp_path: Path, make_pcam_split: Callable, patches: Callable, layout: str
) -> None:
    """Contiguous files are read at their raw offset, others through h5py: same data."""
    images = patches(40, dtype=np.float32 if "float" in layout else np.uint8)
    if images.dtype == np.float32:
        images[5, 0, 0, 0] = 1e5
    labels = np.arange(40) % 2
    make_pcam_split(tmp_path / "plain", "train", images, labels)
    make_pcam_split(tmp_path / "plain", "valid", images[:4], labels[:4])
    other = tmp_path / "other"
    make_pcam_split(other, "valid", images[:4], labels[:4])
    x_path, y_path = make_pcam_split(other, "train", images[:1], labels[:1])
    with h5py.File(x_path, "w") as file:
        if layout == "chunked-gzip":
            file.create_dataset(
                "x", data=images, chunks=(1, 96, 96, 3), compression="gzip"
            )
        else:
            file.create_dataset("x", data=images.astype(">f4"))  # big-endian: not raw
    with h5py.File(y_path, "w") as file:
        file.create_dataset("y", data=labels.reshape(-1, 1, 1, 1))
    plain, _ = get_dataloaders(_config(tmp_path / "plain", seed=2, batch_size=7))
    converted, _ = get_dataloaders(_config(other, seed=2, batch_size=7))
    for (a, la), (b, lb) in zip(plain, converted, strict=True):
        assert torch.equal(a, b)
        assert torch.equal(la, lb)


def test_nothing_left_after_filter_is_a_data_error(
    tmp_path: Path, make_pcam_split: Callable
) -> None:
    blank = np.zeros((4, 96, 96, 3), dtype=np.uint8)
    make_pcam_split(tmp_path, "train", blank, [0, 1, 0, 1])
    make_pcam_split(tmp_path, "valid", blank, [0, 1, 0, 1])
    with pytest.raises(DataError, match=r"train_x\.h5: every image is blackout"):
        get_dataloaders(_config(tmp_path, filter_data=True))

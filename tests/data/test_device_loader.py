"""Device-resident loaders (run on the CPU here): same order and pixels as the standard
loaders, balanced draws, exact resume, and the host fallback with its prefetch thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from ml_core.contract import ConfigError
from ml_core.data import (
    DEVICE_HEADROOM_BYTES,
    DataError,
    get_dataloaders,
    get_split_loader,
    make_loaders,
    make_split_loader,
    read_data_config,
    resumable_sampler,
)
from ml_core.data._batches import prefetched

CPU = torch.device("cpu")


def _config(path: Path, **options: Any) -> dict[str, Any]:
    data = {"data_path": str(path), "batch_size": 16, "device_resident": True}
    return {"seed": options.pop("seed", 0), "data": data | options}


def _standard(config: dict[str, Any]) -> dict[str, Any]:
    data = config["data"] | {"uint8_batches": True, "device_resident": False}
    return config | {"data": data}


def get_device_dataloaders(
    config: dict[str, Any], device: torch.device, memory_budget: int | None = None
) -> tuple[Any, Any]:
    rank, world = config.get("distributed", {"rank": 0, "world_size": 1}).values()
    return make_loaders(
        read_data_config(config["data"]),
        seed=config["seed"],
        device=device,
        rank=rank,
        world_size=world,
        memory_budget=memory_budget,
    )


def get_device_split_loader(
    config: dict[str, Any],
    split: str,
    device: torch.device,
    memory_budget: int | None = None,
) -> Any:
    data = read_data_config(config["data"])
    return make_split_loader(data, split, device=device, memory_budget=memory_budget)


def _assert_same_batches(ours: list, reference: list) -> None:
    assert len(ours) == len(reference)
    for (images, labels), (ref_images, ref_labels) in zip(ours, reference, strict=True):
        assert images.dtype == torch.uint8
        assert images.shape[1:] == (3, 96, 96)
        assert labels.dtype == torch.long
        assert labels.ndim == 1
        assert torch.equal(images, ref_images)
        assert torch.equal(labels, ref_labels)


@pytest.mark.parametrize("memory_budget", [None, 0], ids=["resident", "fallback"])
def test_same_order_and_pixels_as_the_standard_loader(
    tiny_pcam_dir: Path, memory_budget: int | None
) -> None:
    config = _config(tiny_pcam_dir, seed=5)
    train, val = get_device_dataloaders(config, CPU, memory_budget=memory_budget)
    assert train.resident is (memory_budget is None)
    ref_train, ref_val = get_dataloaders(_standard(config))
    for loader in (train, ref_train):
        resumable_sampler(loader).set_epoch(3)
    _assert_same_batches(list(train), list(ref_train))
    _assert_same_batches(list(val), list(ref_val))


def test_course_float_pixels_are_cleaned_like_the_standard_loader(
    tmp_path: Path, make_pcam_split: Callable, patches: Callable
) -> None:
    images = patches(20, dtype=np.float32)
    images[0, 0, 0] = np.nan
    images[1, 5] = 1e5
    images[2, 7] = -3.0
    make_pcam_split(tmp_path, "test", images, np.arange(20) % 2)
    config = _config(tmp_path, batch_size=8)
    ours = list(get_device_split_loader(config, "test", CPU, memory_budget=0))
    _assert_same_batches(ours, list(get_split_loader(_standard(config), "test")))
    assert ours[0][0][0, :, 0, 0].tolist() == [0, 0, 0]
    assert ours[0][0][1, :, 5].unique().tolist() == [255]


def test_order_depends_only_on_seed_and_epoch(tiny_pcam_dir: Path) -> None:
    first, _ = get_device_dataloaders(_config(tiny_pcam_dir, seed=7), CPU)
    again, _ = get_device_dataloaders(_config(tiny_pcam_dir, seed=7), CPU)
    sampler = resumable_sampler(first)
    sampler.set_epoch(3)
    resumable_sampler(again).set_epoch(3)
    epoch3 = sampler.epoch_order()
    assert torch.equal(epoch3, resumable_sampler(again).epoch_order())
    sampler.set_epoch(4)
    assert not torch.equal(epoch3, sampler.epoch_order())
    other, _ = get_device_dataloaders(_config(tiny_pcam_dir, seed=8), CPU)
    resumable_sampler(other).set_epoch(3)
    assert not torch.equal(epoch3, resumable_sampler(other).epoch_order())


@pytest.mark.parametrize("memory_budget", [None, 0], ids=["resident", "fallback"])
def test_skip_batches_resumes_exactly(
    tiny_pcam_dir: Path, memory_budget: int | None
) -> None:
    config = _config(tiny_pcam_dir, seed=1)
    train, _ = get_device_dataloaders(config, CPU, memory_budget=memory_budget)
    sampler = resumable_sampler(train)
    sampler.set_epoch(2)
    full = list(train)
    sampler.skip_batches(4)
    resumed = list(train)
    _assert_same_batches(resumed, full[4:])
    assert len(list(train)) == len(full) == len(train)  # the skip applies once
    sampler.skip_batches(len(train))
    assert list(train) == []
    with pytest.raises(ValueError, match="skip_batches"):
        sampler.skip_batches(len(train) + 1)


def test_distributed_share_matches_the_standard_loader(tiny_pcam_dir: Path) -> None:
    shares = []
    for rank in range(2):
        config = _config(tiny_pcam_dir, seed=2, batch_size=10)
        config["distributed"] = {"rank": rank, "world_size": 2}
        train, _ = get_device_dataloaders(config, CPU)
        ref_train, _ = get_dataloaders(_standard(config))
        for loader in (train, ref_train):
            resumable_sampler(loader).set_epoch(1)
            resumable_sampler(loader).skip_batches(1)
        batches = list(train)
        _assert_same_batches(batches, list(ref_train))
        assert len(train) == len(ref_train) == 5  # 96 samples, global batches of 20
        shares.append(torch.cat([labels for _, labels in batches]))
    assert len(shares[0]) == len(shares[1]) == 4 * 10 - 2  # last share cut to 8


def test_filter_data_drops_outliers(
    tmp_path: Path, make_pcam_split: Callable, patches: Callable
) -> None:
    images = patches(10)
    images[3] = 0
    make_pcam_split(tmp_path, "train", images, np.arange(10) % 2)
    make_pcam_split(tmp_path, "valid", images, np.arange(10) % 2)
    config = _config(tmp_path, filter_data=True, batch_size=4, balance=False)
    train, val = get_device_dataloaders(config, CPU)
    ref_train, ref_val = get_dataloaders(_standard(config))
    assert len(train) == len(ref_train) == 3
    _assert_same_batches(list(train), list(ref_train))
    _assert_same_batches(list(val), list(ref_val))


def test_placement_leaves_the_headroom_free(tiny_pcam_dir: Path) -> None:
    data = read_data_config({"data_path": str(tiny_pcam_dir), "device_resident": True})
    fits = 48 * 96 * 96 * 3 + DEVICE_HEADROOM_BYTES  # the valid split and the headroom
    assert make_split_loader(data, "valid", memory_budget=fits).resident
    assert not make_split_loader(data, "valid", memory_budget=fits - 1).resident
    assert make_split_loader(data, "valid").resident  # host RAM: no free-memory query


def test_stopping_early_joins_the_prefetch_thread(tiny_pcam_dir: Path) -> None:
    train, _ = get_device_dataloaders(_config(tiny_pcam_dir), CPU, memory_budget=0)
    before = threading.active_count()
    batches = iter(train)
    next(batches)
    assert threading.active_count() == before + 1
    batches.close()
    assert threading.active_count() == before


def test_prefetch_reraises_a_producer_error() -> None:
    def broken() -> Any:
        yield torch.zeros(1), torch.zeros(1)
        raise DataError("file vanished")

    batches = prefetched(broken(), CPU)
    next(batches)
    with pytest.raises(DataError, match="file vanished"):
        next(batches)


def test_bad_input(tiny_pcam_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"data\.device_resident"):
        get_device_dataloaders(_config(tiny_pcam_dir, device_resident="yes"), CPU)
    with pytest.raises(ConfigError, match="does not exist"):
        get_device_dataloaders(_config(tmp_path / "missing"), CPU)

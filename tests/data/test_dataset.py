"""PCAMDataset: the course's behaviours on small real H5 files."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader
from torchvision.transforms import ToTensor

from ml_core.data import PCAMDataset, split_paths
from ml_core.data._h5files import raw_offset
from ml_core.data._pixels import mask_cache_path


def test_item_is_chw_float_0_255_and_0dim_long_label(
    tmp_path: Path, make_pcam_split: Callable, patches: Callable
) -> None:
    images = patches(4)
    x_path, y_path = make_pcam_split(tmp_path, "train", images, [0, 1, 1, 0])
    dataset = PCAMDataset(x_path, y_path)
    image, label = dataset[1]
    assert image.shape == (3, 96, 96)
    assert image.dtype == torch.float32
    assert torch.equal(image, torch.from_numpy(images[1]).permute(2, 0, 1).float())
    assert label.shape == ()
    assert label.dtype == torch.long
    assert int(label) == 1
    assert len(dataset) == 4


def test_course_float_values_nan_to_zero_then_clip(
    tmp_path: Path, make_pcam_split: Callable, patches: Callable
) -> None:
    images = patches(2, dtype=np.float32)
    images[0, 0, 0, 0] = np.nan
    images[0, 0, 0, 1] = 1e5
    images[0, 0, 0, 2] = -7.0
    images[0, 0, 1, 0] = 12.9
    x_path, y_path = make_pcam_split(tmp_path, "train", images, [0, 1])
    image, _ = PCAMDataset(x_path, y_path)[0]
    assert image[:, 0, 0].tolist() == [0.0, 255.0, 0.0]
    assert image[0, 0, 1] == 12.0  # cast to uint8 truncates, like the course


def test_transform_receives_hwc_uint8(
    tmp_path: Path, make_pcam_split: Callable, patches: Callable
) -> None:
    images = patches(2, dtype=np.float32)
    images[1, 5, 5, 1] = 1e5
    x_path, y_path = make_pcam_split(tmp_path, "train", images, [0, 1])
    seen = []

    def transform(array: np.ndarray) -> torch.Tensor:
        seen.append((array.shape, array.dtype))
        return ToTensor()(array)

    image, _ = PCAMDataset(x_path, y_path, transform=transform)[1]
    assert seen == [((96, 96, 3), np.dtype(np.uint8))]
    assert image.shape == (3, 96, 96)
    assert float(image[1, 5, 5]) == 1.0


def test_filter_data_keeps_98_of_100_and_caches_outside_data_dir(
    tmp_path: Path, make_pcam_split: Callable, patches: Callable
) -> None:
    images = patches(100)
    images[10] = 0
    images[70] = 255
    data_dir = tmp_path / "shared"
    x_path, y_path = make_pcam_split(data_dir, "train", images, np.arange(100) % 2)
    data_dir.chmod(0o555)  # a read-only shared copy
    try:
        dataset = PCAMDataset(x_path, y_path, filter_data=True)
        assert len(dataset) == 98
        assert 10 not in dataset.indices
        assert 70 not in dataset.indices
        cached = mask_cache_path(x_path)
        assert cached.is_file()
        assert data_dir not in cached.parents
        assert sorted(p.name for p in data_dir.iterdir()) == sorted(
            [x_path.name, y_path.name]
        )
        # The second dataset reuses the cached mask: make it recognisable.
        keep = np.load(cached)
        keep[0] = False
        np.save(cached, keep)
        assert len(PCAMDataset(x_path, y_path, filter_data=True)) == 97
    finally:
        data_dir.chmod(0o755)


def test_item_index_maps_through_filter(
    tmp_path: Path, make_pcam_split: Callable, patches: Callable
) -> None:
    images = patches(5)
    images[0] = 0
    x_path, y_path = make_pcam_split(tmp_path, "train", images, [1, 0, 1, 0, 1])
    dataset = PCAMDataset(x_path, y_path, filter_data=True)
    image, label = dataset[0]
    assert torch.equal(image, torch.from_numpy(images[1]).permute(2, 0, 1).float())
    assert int(label) == 0
    assert dataset.labels.tolist() == [0, 1, 0, 1]
    with pytest.raises(IndexError):
        dataset[4]


def test_iterates_under_dataloader_workers_with_lazy_open(tiny_pcam_dir: Path) -> None:
    dataset = PCAMDataset(*split_paths(tiny_pcam_dir, "valid"))
    first, _ = dataset[0]  # the parent opens its handle before the workers fork
    loader = DataLoader(dataset, batch_size=16, num_workers=2)
    images = torch.cat([batch for batch, _ in loader])
    assert images.shape == (48, 3, 96, 96)
    assert torch.equal(images[0], first)
    expected = torch.stack([dataset[i][0] for i in range(len(dataset))])
    assert torch.equal(images, expected)


def test_raw_offset_reads_only_plain_layouts(
    tmp_path: Path, tiny_pcam_dir: Path
) -> None:
    with h5py.File(split_paths(tiny_pcam_dir, "train")[0]) as file:
        assert raw_offset(file["x"]) is not None
    with h5py.File(tmp_path / "chunked.h5", "w") as file:
        file.create_dataset("x", data=np.zeros((2, 96, 96, 3), np.uint8), chunks=True)
        assert raw_offset(file["x"]) is None


def test_reader_pickles_without_handles(tiny_pcam_dir: Path) -> None:
    """What DataLoader workers receive under spawn: a path, reopened on first read."""
    dataset = PCAMDataset(*split_paths(tiny_pcam_dir, "valid"))
    first, _ = dataset[0]
    state = dataset._images.__getstate__()
    assert state["_file"] is None
    assert state["_raw"] is None
    copy = pickle.loads(pickle.dumps(dataset))  # noqa: S301 (our own bytes)
    assert torch.equal(copy[0][0], first)

"""Every kind of unusable data raises DataError naming the file and the problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

from ml_core.data import DataError, PCAMDataset, split_paths


def _expect(x_path: Path, y_path: Path, name: str, problem: str) -> None:
    with pytest.raises(DataError, match=problem) as raised:
        PCAMDataset(x_path, y_path)
    assert name in str(raised.value)


def test_missing_file(tmp_path: Path) -> None:
    x_path, y_path = split_paths(tmp_path, "train")
    _expect(x_path, y_path, x_path.name, "file not found")


def test_wrong_image_key(
    tmp_path: Path, make_pcam_split: Callable, patches: Callable
) -> None:
    paths = make_pcam_split(tmp_path, "train", patches(2), [0, 1], image_key="images")
    _expect(*paths, paths[0].name, "missing key 'x' \\(keys present: images\\)")


def test_wrong_label_key(
    tmp_path: Path, make_pcam_split: Callable, patches: Callable
) -> None:
    paths = make_pcam_split(tmp_path, "train", patches(2), [0, 1], label_key="labels")
    _expect(*paths, paths[1].name, "missing key 'y'")


def test_wrong_image_shape(tmp_path: Path, make_pcam_split: Callable) -> None:
    images = np.zeros((2, 3, 96, 96), dtype=np.uint8)
    paths = make_pcam_split(tmp_path, "train", images, [0, 1])
    _expect(
        *paths, paths[0].name, "shape \\(2, 3, 96, 96\\), expected \\(N, 96, 96, 3\\)"
    )


def test_wrong_label_shape(
    tmp_path: Path, make_pcam_split: Callable, patches: Callable
) -> None:
    labels = np.zeros((2, 2), dtype=np.uint8)
    paths = make_pcam_split(tmp_path, "train", patches(2), labels, raw_labels=True)
    _expect(*paths, paths[1].name, "key 'y' has shape \\(2, 2\\)")


def test_length_mismatch(
    tmp_path: Path, make_pcam_split: Callable, patches: Callable
) -> None:
    paths = make_pcam_split(tmp_path, "train", patches(3), [0, 1])
    _expect(*paths, paths[1].name, "2 labels but .*train_x.h5 has 3 images")


def test_labels_outside_0_1(
    tmp_path: Path, make_pcam_split: Callable, patches: Callable
) -> None:
    paths = make_pcam_split(tmp_path, "train", patches(3), [0, 2, 1])
    _expect(*paths, paths[1].name, "1 labels outside \\{0, 1\\} \\(first at index 1")


def test_empty_split(tmp_path: Path, make_pcam_split: Callable) -> None:
    empty = np.zeros((0, 96, 96, 3), dtype=np.uint8)
    paths = make_pcam_split(tmp_path, "train", empty, np.zeros(0, dtype=np.uint8))
    _expect(*paths, paths[0].name, "empty split")


def test_non_hdf5_file(
    tmp_path: Path, make_pcam_split: Callable, patches: Callable
) -> None:
    x_path, y_path = make_pcam_split(tmp_path, "train", patches(2), [0, 1])
    x_path.write_text("<html>rate limited</html>\n")
    _expect(x_path, y_path, x_path.name, "not a readable HDF5 file")


def test_truncated_file(
    tmp_path: Path, make_pcam_split: Callable, patches: Callable
) -> None:
    x_path, y_path = make_pcam_split(tmp_path, "train", patches(8), np.arange(8) % 2)
    data = x_path.read_bytes()
    x_path.write_bytes(data[: len(data) // 2])
    _expect(x_path, y_path, x_path.name, "not a readable HDF5 file")


def test_group_instead_of_dataset(tmp_path: Path, make_pcam_split: Callable) -> None:
    x_path, y_path = make_pcam_split(tmp_path, "train", np.zeros((1, 96, 96, 3)), [0])
    with h5py.File(x_path, "w") as file:
        file.create_group("x")
    _expect(x_path, y_path, x_path.name, "'x' is a group")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    x_path, y_path = split_paths(tmp_path, "train")
    x_path.mkdir()
    _expect(x_path, y_path, x_path.name, "not a regular file")


def test_filter_data_that_keeps_nothing(
    tmp_path: Path, make_pcam_split: Callable, patches: Callable
) -> None:
    images = patches(2)
    images[0], images[1] = 0, 255  # one blackout, one washout
    paths = make_pcam_split(tmp_path, "train", images, [0, 1])
    with pytest.raises(DataError, match="nothing left after filter_data") as raised:
        PCAMDataset(*paths, filter_data=True)
    assert paths[0].name in str(raised.value)

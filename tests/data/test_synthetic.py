"""Synthetic PCAM: official layout, determinism, recorded outliers, course-float
variant, the cached built-in dataset and a learnable label."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from ml_core.data import (
    DataError,
    PCAMDataset,
    ensure_synthetic_pcam,
    official_file_names,
    outlier_masks,
    read_synthetic_metadata,
    split_paths,
    write_synthetic_pcam,
)


def test_official_layout(tiny_pcam_dir: Path) -> None:
    for split, size in (("train", 96), ("valid", 48), ("test", 48)):
        x_path, y_path = split_paths(tiny_pcam_dir, split)
        with h5py.File(x_path) as file:
            assert file["x"].shape == (size, 96, 96, 3)
            assert file["x"].dtype == np.uint8
        with h5py.File(y_path) as file:
            assert file["y"].shape == (size, 1, 1, 1)
            labels = file["y"][()].reshape(-1)
        assert labels.sum() == size // 2


def test_deterministic_per_seed(tmp_path: Path, tiny_pcam_dir: Path) -> None:
    again = write_synthetic_pcam(
        tmp_path / "again", n_train=96, n_valid=48, n_test=48, seed=0
    )
    other = write_synthetic_pcam(
        tmp_path / "other", n_train=96, n_valid=48, n_test=48, seed=1
    )
    for name in official_file_names():
        with h5py.File(tiny_pcam_dir / name) as a, h5py.File(again / name) as b:
            key = next(iter(a.keys()))
            assert np.array_equal(a[key][()], b[key][()])
    with (
        h5py.File(tiny_pcam_dir / official_file_names()[0]) as a,
        h5py.File(other / official_file_names()[0]) as b,
    ):
        assert not np.array_equal(a["x"][()], b["x"][()])


def test_outliers_are_at_recorded_indices(tmp_path: Path) -> None:
    out = write_synthetic_pcam(tmp_path, n_train=400, n_valid=20, n_test=20, seed=3)
    record = read_synthetic_metadata(out)["splits"]["train"]
    assert len(record["blackout"]) + len(record["washout"]) == 4
    blackout, washout = outlier_masks(split_paths(out, "train")[0])
    assert np.flatnonzero(blackout).tolist() == record["blackout"]
    assert np.flatnonzero(washout).tolist() == record["washout"]
    assert len(PCAMDataset(*split_paths(out, "train"), filter_data=True)) == 396


def test_course_float_variant_has_nan_and_huge_values(tmp_path: Path) -> None:
    out = write_synthetic_pcam(
        tmp_path, n_train=200, n_valid=20, n_test=20, seed=0, course_float=True
    )
    record = read_synthetic_metadata(out)["splits"]["train"]
    with h5py.File(split_paths(out, "train")[0]) as file:
        images = file["x"][()]
    assert images.dtype == np.float32
    nan_rows = np.flatnonzero(np.isnan(images).any(axis=(1, 2, 3)))
    huge_rows = np.flatnonzero((images == 1e5).any(axis=(1, 2, 3)))
    assert nan_rows.tolist() == record["nan"]
    assert huge_rows.tolist() == record["huge"]
    assert len(nan_rows) == len(huge_rows) == 4
    image, _ = PCAMDataset(*split_paths(out, "train"))[int(huge_rows[0])]
    assert float(image.max()) == 255.0


def test_refuses_to_overwrite(tiny_pcam_dir: Path) -> None:
    with pytest.raises(DataError, match="already exists"):
        write_synthetic_pcam(tiny_pcam_dir, n_train=2, n_valid=2, n_test=2)


def test_rejects_bad_sizes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n_valid must be a positive integer"):
        write_synthetic_pcam(tmp_path, n_train=2, n_valid=0, n_test=2)


def test_ensure_generates_once_then_reuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ML_CORE_CACHE", str(tmp_path))
    sizes = {"train": 8, "valid": 4, "test": 4}
    first = ensure_synthetic_pcam(sizes=sizes, seed=2)
    assert first.parent == tmp_path
    assert first.name == "synthetic-pcam-v3-8-4-4-seed2"
    stamp = (first / official_file_names()[0]).stat().st_mtime_ns
    assert ensure_synthetic_pcam(sizes=sizes, seed=2) == first
    assert (first / official_file_names()[0]).stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no staging left


def test_label_is_readable_from_the_centre(tiny_pcam_dir: Path) -> None:
    """Positives are darker in the centre 32x32 than around it; a one-number rule
    already separates most patches (the MLP learns far more)."""
    dataset = PCAMDataset(*split_paths(tiny_pcam_dir, "train"), filter_data=True)
    images = np.stack([dataset[i][0].numpy() for i in range(len(dataset))])
    contrast = images.mean(axis=(1, 2, 3)) - images[:, :, 32:64, 32:64].mean(
        axis=(1, 2, 3)
    )
    labels = dataset.labels
    threshold = np.median(contrast)
    assert ((contrast > threshold) == labels).mean() > 0.8

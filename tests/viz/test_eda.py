"""EDA of a PCAM directory: the numbers in summary.json and figures are the data's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from matplotlib.patches import Rectangle

from ml_core.data import get_dataloaders, split_paths
from ml_core.eda import EdaOptions, run_eda
from ml_core.eda._eda_figures import (
    class_balance_figure,
    examples_figure,
    intensity_figure,
    sampler_figure,
)
from ml_core.eda._measurements import (
    MEAN_BIN_EDGES,
    check_sampler,
    open_pcam_splits,
    pick_examples,
    scan_split,
)
from ml_core.viz import VizInputError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIGURES = [
    "class_balance.png",
    "example_patches.png",
    "intensity_histograms.png",
    "patch_means.png",
    "sampler.png",
]
BATCH = 32


def read_split(data_dir: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    x_path, y_path = split_paths(data_dir, split)
    with h5py.File(x_path) as x_file, h5py.File(y_path) as y_file:
        return x_file["x"][()], y_file["y"][()].reshape(-1).astype(int)


def expected_pixel_histograms(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """[class][channel][level] pixel counts, computed independently (np.histogram)."""
    return np.array(
        [
            [
                np.histogram(images[labels == c][..., ch], bins=256, range=(0, 256))[0]
                for ch in range(3)
            ]
            for c in (0, 1)
        ]
    )


@pytest.fixture(scope="module")
def eda_80_20(pcam_80_20: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("eda") / "out"
    run_eda(pcam_80_20, out, EdaOptions(batch_size=BATCH, sampler_batches=1000))
    return out


@pytest.fixture(scope="module")
def summary_80_20(eda_80_20: Path) -> dict[str, Any]:
    return json.loads((eda_80_20 / "summary.json").read_text())


def test_eda_writes_every_figure_and_summary(eda_80_20: Path) -> None:
    names = sorted(path.name for path in eda_80_20.iterdir())
    assert names == sorted([*FIGURES, "summary.json", "summary.txt"])
    for name in FIGURES:
        assert (eda_80_20 / name).read_bytes().startswith(PNG_MAGIC)
    assert "with sampler: expected 16.00" in (eda_80_20 / "summary.txt").read_text()


def test_summary_counts_and_histograms_are_the_data(
    pcam_80_20: Path, summary_80_20: dict[str, Any]
) -> None:
    assert list(summary_80_20["splits"]) == ["train", "valid", "test"]
    for split, numbers in summary_80_20["splits"].items():
        images, labels = read_split(pcam_80_20, split)
        assert numbers["class_counts"] == np.bincount(labels, minlength=2).tolist()
        assert numbers["total_patches"] == numbers["scanned_patches"] == len(labels)
        np.testing.assert_array_equal(
            numbers["pixel_histograms"], expected_pixel_histograms(images, labels)
        )
        means = images.reshape(len(images), -1).mean(axis=1)
        for label in (0, 1):
            expected = np.histogram(means[labels == label], bins=MEAN_BIN_EDGES)[0]
            np.testing.assert_array_equal(
                numbers["patch_mean_histograms"][label], expected
            )
        assert numbers["outliers"] == {
            "nan": 0,
            "over_255": 0,
            "all_0": 0,
            "all_255": 0,
        }


def test_sampler_maths_on_80_20_split(
    pcam_80_20: Path, summary_80_20: dict[str, Any]
) -> None:
    sampler = summary_80_20["sampler"]
    assert sampler["class_counts"] == [800, 200]
    expected = sampler["expected_positives_per_batch"]
    # 32 * 200 / 1000 and 32 / 2 are exact in binary floating point.
    assert expected["without_sampler"] == 0.2 * BATCH
    assert expected["with_sampler"] == 0.5 * BATCH
    measured = sampler["measured_positives_per_batch"]
    # Without the sampler one shuffled epoch holds exactly the 200 positives: only the
    # short last batch moves the mean of the 32 batches away from 6.4, by under 1.
    assert measured["without_sampler"]["mean"] == pytest.approx(0.2 * BATCH, abs=1.0)
    # With it every draw is positive with p = 1/2: over 1000 draws the mean per batch
    # has sd 32 * sqrt(0.25 / 1000) = 0.5, so 2.0 is four sd.
    assert measured["with_sampler"]["mean"] == pytest.approx(0.5 * BATCH, abs=2.0)
    for balance, key in ((False, "without_sampler"), (True, "with_sampler")):
        config = {
            "seed": 0,
            "data": {
                "data_path": str(pcam_80_20),
                "batch_size": BATCH,
                "balance": balance,
            },
        }
        train_loader, _ = get_dataloaders(config)
        shares = [float(labels.float().mean()) for _, labels in train_loader]
        assert measured[key]["batches"] == len(shares) == 32
        # Scaling before or after the mean rounds differently in the last bits.
        assert measured[key]["mean"] == pytest.approx(
            BATCH * np.mean(shares), rel=1e-12
        )


def test_sampler_figure_bars_are_the_check(pcam_80_20: Path) -> None:
    counts = np.array([800, 200])
    options = EdaOptions(batch_size=BATCH, seed=0, sampler_batches=5)
    check = check_sampler(pcam_80_20, counts, options)
    measured = check.measured_positives_per_batch
    assert measured["with_sampler"].batches == 5
    bars = {
        patch.get_gid(): patch.get_height()
        for patch in sampler_figure(check).axes[0].patches
    }
    # Bar heights are the numbers handed to matplotlib, unchanged.
    assert bars == {
        "sampler|expected|without_sampler": 0.2 * BATCH,
        "sampler|expected|with_sampler": 0.5 * BATCH,
        "sampler|measured|without_sampler": measured["without_sampler"].mean,
        "sampler|measured|with_sampler": measured["with_sampler"].mean,
    }


def test_course_float_outliers_counted_and_excluded(
    pcam_course_float: tuple[Path, dict[str, int]],
) -> None:
    data_dir, poison = pcam_course_float
    splits = open_pcam_splits(data_dir)
    assert list(splits) == ["train", "valid"]
    train = scan_split(splits["train"])
    assert train.outliers == dict.fromkeys(poison, 1)
    assert scan_split(splits["valid"]).outliers == dict.fromkeys(poison, 0)
    images, labels = read_split(data_dir, "train")
    clean = np.setdiff1d(np.arange(len(labels)), list(poison.values()))
    np.testing.assert_array_equal(
        train.pixel_histograms,
        expected_pixel_histograms(images[clean].astype(np.uint8), labels[clean]),
    )
    # Patch means use the course cleaning: NaN -> 0, clip to 255.
    cleaned = np.clip(np.nan_to_num(images, nan=0.0), 0, 255).astype(np.uint8)
    means = cleaned.reshape(len(images), -1).mean(axis=1)
    assert train.patch_mean_histograms.sum() == len(labels)
    for label in (0, 1):
        expected = np.histogram(means[labels == label], bins=MEAN_BIN_EDGES)[0]
        np.testing.assert_array_equal(train.patch_mean_histograms[label], expected)


def test_intensity_figure_lines_are_pixel_shares(
    pcam_course_float: tuple[Path, dict[str, int]],
) -> None:
    splits = open_pcam_splits(pcam_course_float[0])
    stats = {split: scan_split(files) for split, files in splits.items()}
    totals = stats["train"].pixel_histograms + stats["valid"].pixel_histograms
    figure = intensity_figure(stats)
    lines = {
        line.get_gid(): line.get_ydata() for axis in figure.axes for line in axis.lines
    }
    for label in (0, 1):
        for channel in range(3):
            counts = totals[label, channel]
            np.testing.assert_array_equal(
                lines[f"{label}|{channel}"], counts / counts.sum()
            )
    for axis in figure.axes:
        assert axis.get_title().endswith("channel")
        assert axis.get_xlabel()


def test_examples_skip_outliers_and_outline_centre(
    pcam_course_float: tuple[Path, dict[str, int]],
) -> None:
    data_dir, poison = pcam_course_float
    examples = pick_examples(open_pcam_splits(data_dir)["train"], per_class=4)
    # Labels alternate 0, 1, 0, ...; poisoned patches 3, 5, 7, 9 are all label 1.
    assert examples.indices == {0: [0, 2, 4, 6], 1: [1, 11, 13, 15]}
    assert not set(examples.indices[1]) & set(poison.values())
    outlines = [
        patch
        for axis in examples_figure(examples).axes
        for patch in axis.patches
        if isinstance(patch, Rectangle)
    ]
    assert len(outlines) == 8
    assert {(p.get_x() + 0.5, p.get_y() + 0.5, p.get_width()) for p in outlines} == {
        (32, 32, 32)
    }


def test_class_balance_bars_are_the_label_counts(pcam_80_20: Path) -> None:
    splits = open_pcam_splits(pcam_80_20)
    stats = {split: scan_split(files, max_patches=1) for split, files in splits.items()}
    bars = {
        patch.get_gid(): patch.get_height()
        for patch in class_balance_figure(stats).axes[0].patches
    }
    for split in splits:
        counts = np.bincount(read_split(pcam_80_20, split)[1], minlength=2)
        for label in (0, 1):
            assert bars[f"balance|{split}|{label}"] == counts[label]


def test_max_patches_limits_the_scan(pcam_80_20: Path) -> None:
    stats = scan_split(open_pcam_splits(pcam_80_20)["train"], max_patches=100)
    assert stats.scanned_patches == 100
    assert stats.pixel_histograms.sum() == 100 * 96 * 96 * 3
    assert stats.class_counts.sum() == 1000  # labels are always counted in full


@pytest.mark.parametrize("layout", ["empty", "only-valid", "not-hdf5"])
def test_not_pcam_directory(tmp_path: Path, pcam_80_20: Path, layout: str) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if layout == "only-valid":
        for path in split_paths(pcam_80_20, "valid"):
            (data_dir / path.name).write_bytes(path.read_bytes())
    if layout == "not-hdf5":
        for split in ("train", "valid"):
            for path in split_paths(data_dir, split):
                path.write_text("not hdf5")
    with pytest.raises(VizInputError, match=str(data_dir)):
        run_eda(data_dir, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("defect", "problem"),
    [
        ("labels", "labels outside {0, 1}"),
        ("length", "3 labels but"),
        ("shape", "expected (N, 96, 96, 3)"),
        ("key", "missing key 'x'"),
    ],
)
def test_bad_pcam_files_named(tmp_path: Path, defect: str, problem: str) -> None:
    images = np.zeros((4, 96, 96, 3), dtype=np.uint8)
    labels = np.array([0, 1, 0, 1])
    if defect == "labels":
        labels[2] = 2
    if defect == "length":
        labels = labels[:3]
    if defect == "shape":
        images = np.zeros((4, 32, 32, 3), dtype=np.uint8)
    for split in ("train", "valid"):
        x_path, y_path = split_paths(tmp_path, split)
        with h5py.File(x_path, "w") as file:
            file.create_dataset("images" if defect == "key" else "x", data=images)
        with h5py.File(y_path, "w") as file:
            file.create_dataset("y", data=labels.reshape(-1, 1, 1, 1))
    with pytest.raises(
        VizInputError, match="camelyonpatch_level_2_split_train"
    ) as caught:
        run_eda(tmp_path, tmp_path / "out")
    assert problem in str(caught.value)
    assert not (tmp_path / "out").exists()

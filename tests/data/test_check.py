"""check_dataset: counts per split, poisoned pixels, outliers and problems."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ml_core.data import check_dataset, read_synthetic_metadata, write_synthetic_pcam
from ml_core.data._check import format_report


def test_counts_course_float_poison_and_outliers(tmp_path: Path) -> None:
    out = write_synthetic_pcam(
        tmp_path, n_train=200, n_valid=40, n_test=40, seed=5, course_float=True
    )
    report = check_dataset(out)
    assert report.ok
    train = report.splits["train"]
    record = read_synthetic_metadata(out)["splits"]["train"]
    assert (train.num_samples, train.negatives, train.positives) == (200, 100, 100)
    assert train.image_dtype == "float32"
    assert train.nan_images == len(record["nan"]) == 4
    assert train.out_of_range_images == len(record["huge"]) == 4
    assert train.inf_images == 0
    assert (train.blackout, train.washout) == (1, 1)
    as_json = json.loads(json.dumps(report.to_dict()))
    assert as_json["splits"]["valid"]["num_samples"] == 40
    table = format_report(report)
    assert "float32" in table
    assert table.endswith("usable")


def test_missing_test_split_is_a_note_missing_train_a_problem(
    tmp_path: Path, make_pcam_split: Callable, patches: Callable
) -> None:
    make_pcam_split(tmp_path, "train", patches(4), [0, 1, 0, 1])
    make_pcam_split(tmp_path, "valid", patches(4), [0, 1, 0, 1])
    report = check_dataset(tmp_path)
    assert report.ok
    assert "split 'test' missing" in report.notes[0]
    (tmp_path / "camelyonpatch_level_2_split_train_x.h5").unlink()
    (tmp_path / "camelyonpatch_level_2_split_train_y.h5").unlink()
    assert check_dataset(tmp_path).problems == [
        f"{tmp_path}: split 'train' missing (camelyonpatch_level_2_split_train_x.h5)"
    ]


def test_every_broken_split_is_listed(
    tmp_path: Path, make_pcam_split: Callable, patches: Callable
) -> None:
    make_pcam_split(tmp_path, "train", patches(4), [0, 1, 3, 1])
    make_pcam_split(tmp_path, "valid", patches(3), [0, 1])
    make_pcam_split(tmp_path, "test", np.zeros((2, 96, 96), np.uint8), [0, 1])
    report = check_dataset(tmp_path)
    assert not report.ok
    assert len(report.problems) == 3
    assert "train_y.h5: 1 labels outside {0, 1}" in report.problems[0]
    assert "valid_y.h5: 2 labels but" in report.problems[1]
    assert "test_x.h5: key 'x' has shape (2, 96, 96)" in report.problems[2]
    assert format_report(report).endswith("NOT usable: 3 problem(s)")


def test_missing_directory(tmp_path: Path) -> None:
    report = check_dataset(tmp_path / "absent")
    assert report.problems == [f"{tmp_path / 'absent'}: data directory not found"]

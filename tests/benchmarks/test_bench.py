"""The benchmark runs end to end on the real loaders, models and trainer."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import bench, commands, full_size_data


@pytest.mark.slow
def test_benchmark_reports_loaders_and_models(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert bench.main(["--samples", "128", "--epochs", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    loaders = report["loaders"]
    assert [row["task"] for row in loaders] == ["loader"] * 4 + ["train"] * 4
    assert loaders[0]["name"].startswith("naive course loader")
    assert [row["name"].split("=")[-1] for row in loaders[1:4]] == [
        "disk",
        "ram",
        "device",
    ]
    assert loaders[0]["speedup"] == loaders[4]["speedup"] == 1.0
    assert all(row["samples_per_second"] > 0 for row in loaders)
    assert all(row["timed_samples"] == 128 for row in loaders)
    # The real model: the course MLP's 27,648 x 64 + 64 + 64 x 32 + 32 + 32 x 2 + 2.
    assert report["models"] == [
        {
            "model": "mlp",
            "parameters": 1_771_682,
            "samples_per_second": pytest.approx(
                report["models"][0]["samples_per_second"]
            ),
        }
    ]
    assert report["commands"] == []


def test_bad_arguments_are_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--models", "mlp,vgg99"]) == 2
    assert capsys.readouterr().err.startswith("bench: error: --models: unknown vgg99")


def test_full_size_blocks_follow_the_recipe() -> None:
    images, labels = full_size_data.render_block(np.random.default_rng(0))
    assert images.shape == (full_size_data.BLOCK_PATCHES, 96, 96, 3)
    assert labels.sum() == full_size_data.BLOCK_PATCHES // 2
    centre = images[:, 36:60, 36:60].reshape(len(images), -1, 3).mean(axis=1)
    # A dark purple disc of radius >= 5 (>= 81 of 576 centre pixels) pulls the centre's
    # green mean down by >= 120 * 81 / 576 ~ 17 levels; noise moves it by < 1.
    green = centre[:, 1]
    assert green[labels == 1].max() < green[labels == 0].min()


def test_full_size_split_repeats_blocks_with_outliers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(full_size_data, "BLOCK_PATCHES", 16)
    monkeypatch.setattr(
        full_size_data, "FULL_SIZES", dict.fromkeys(("train", "valid", "test"), 80)
    )
    from ml_core.data import check_dataset

    report = check_dataset(full_size_data.write_full_size_pcam(tmp_path / "pcam"))
    assert report.ok
    train = report.splits["train"]
    assert train.num_samples == 80
    assert (train.blackout, train.washout) == (1, 1)


def test_timed_command_reports_the_childs_peak_rss(tmp_path: Path) -> None:
    script = (
        "import numpy; a = numpy.ones(300 * 2**20, dtype=numpy.uint8); print(a.sum())"
    )
    wall, rss = commands.timed("allocate", [sys.executable, "-c", script], tmp_path)
    assert wall > 0
    assert rss > 0.3  # 300 MiB touched by the child (the parent holds none of it)
    with pytest.raises(commands.BenchError, match="exited 3"):
        commands.timed("fail", [sys.executable, "-c", "raise SystemExit(3)"], tmp_path)

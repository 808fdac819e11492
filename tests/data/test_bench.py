"""The loader benchmark runs end to end and the fast path beats the naive loader."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from ml_core.data import bench, bench_data, check_dataset, split_paths
from ml_core.data.batches import to_model_batch
from ml_core.data.bench import format_results, multi_gpu_note, run_benchmark
from ml_core.data.bench_data import write_bench_pcam
from ml_core.data.cli import main


def test_conversion_matches_to_tensor_bit_for_bit() -> None:
    images = torch.randint(0, 256, (4, 96, 96, 3), dtype=torch.uint8).numpy()
    ours = to_model_batch(images.transpose(0, 3, 1, 2), uint8_batches=False)
    reference = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(255)
    assert ours.is_contiguous()
    assert torch.equal(ours, reference)


def test_benchmark_reports_every_loader() -> None:
    results = run_benchmark(n_samples=384, epochs=1, train=False)
    assert [r.loader.split(",")[0] for r in results] == [
        "naive course loader (per-index h5",
        "ml_core.data",
        "ml_core.data",
        "ml_core.data",
    ]
    assert {r.task for r in results} == {"loader"}
    assert results[0].speedup == pytest.approx(1.0)
    # Far above 1 on an idle machine; only "faster" is asserted on a shared one.
    assert results[2].speedup > 1.0
    assert "device_resident (cpu, on device)" in results[3].loader
    assert all(r.samples_per_second > 0 for r in results)
    assert all(r.timed_samples == 384 for r in results)
    assert format_results(results).count("\n") == 5


def test_benchmark_times_a_training_epoch_per_loader() -> None:
    results = run_benchmark(n_samples=96, epochs=1, batch_size=48)
    assert [r.task for r in results] == ["loader"] * 4 + ["train"] * 4
    train = results[4:]
    assert train[0].speedup == pytest.approx(1.0)
    assert [r.loader for r in train] == [r.loader for r in results[:4]]
    assert all(t.epoch_seconds > 0 for t in train)
    assert all(t.timed_samples == 96 for t in train)


def test_naive_loader_is_timed_on_a_capped_subset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bench, "NAIVE_MAX_SAMPLES", 64)
    results = run_benchmark(n_samples=128, epochs=1, train=False)
    assert results[0].timed_samples == 64
    assert results[1].timed_samples == 128
    assert results[0].epoch_seconds == pytest.approx(
        128 / results[0].samples_per_second
    )
    assert "(timed 64)" in format_results(results).splitlines()[2]


def test_bench_data_repeats_a_tile_to_any_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench_data, "DISTINCT_PATCHES", 40)
    data_dir = write_bench_pcam(tmp_path, 100)
    report = check_dataset(data_dir)
    assert report.ok, report.problems
    x_path, y_path = split_paths(data_dir, "train")
    with h5py.File(x_path, "r") as images, h5py.File(y_path, "r") as labels:
        assert images["x"].shape == (100, 96, 96, 3)
        assert np.array_equal(images["x"][40:80], images["x"][0:40])
        assert np.array_equal(labels["y"][90:100], labels["y"][10:20])
        assert not np.array_equal(images["x"][0], images["x"][1])


def test_bench_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bench", "--samples", "64", "--epochs", "1", "--no-train", "--json"]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [set(row) for row in rows] == [
        {
            "loader",
            "task",
            "samples_per_second",
            "epoch_seconds",
            "setup_seconds",
            "speedup",
            "timed_samples",
        }
    ] * 4


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
def test_bench_cli_without_cuda(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--device", "cuda"]) == 2
    assert capsys.readouterr().err == (
        "ml-data bench: --device cuda: no CUDA device here\n"
    )


@pytest.mark.slow
def test_ddp_rows_under_torchrun_with_two_cpu_ranks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["bench", "--samples", "64", "--epochs", "1", "--no-train", "--ranks", "2"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "device_resident DDP, 1 process " in lines[-3]
    assert "device_resident DDP, 2 processes " in lines[-2]
    assert lines[-1].startswith("1 vs N: 2 processes train at ")


def test_multi_gpu_note_without_ddp_rows() -> None:
    assert multi_gpu_note("cpu", []) == (
        "1 vs N GPUs: not run (0 CUDA device(s) visible; needs --ranks >= 2)"
    )

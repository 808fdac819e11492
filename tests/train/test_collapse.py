"""Collapse detection, the defaults that avoid it, and a diverging loss.

The reproduction is the full-size mechanism at CI size: the course's literal pipeline
(raw [0, 1] pixels, Adam at 1e-3, no clipping) on synthetic PCAM with batch 8. Every
pixel of a patch is positive, so every first-layer weight of a unit gets a gradient of
the same sign and Adam moves all 27,648 together by about the learning rate: the
network works at steps 32 and 64 (seed 4) and is dead from step 96 on, for good.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
import yaml
from torch import nn

from ml_core.cli.viz import main as ml_viz_main
from ml_core.train._collapse import collapse_reason, count_dead_units

from .conftest import run_cli, run_overrides

HEALTHY = {
    "loss": 0.2,
    "auroc": 0.97,
    "prob_std": 0.45,
    "positive_rate": 0.5,
    "dead_units": 0.1,
}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({}, None),
        ({"loss": float("nan")}, "validation loss is nan"),
        ({"dead_units": 1.0}, "every unit of a hidden layer is dead"),
        ({"prob_std": 3e-8}, "constant predictions (probability std 3.0e-08)"),
        ({"auroc": 0.49997, "prob_std": 0.02, "positive_rate": 0.0}, "no signal"),
        # Every sample on one side of 0.5, but ranked well: miscalibrated, not dead.
        ({"positive_rate": 1.0, "prob_std": 0.01}, None),
    ],
    ids=["healthy", "nan", "dead layer", "constant", "chance", "miscalibrated"],
)
def test_collapse_reason(change: dict, reason: str | None) -> None:
    found = collapse_reason({**HEALTHY, **change})
    if reason is None:
        assert found is None
    else:
        assert found is not None
        assert reason in found


def test_dead_units_are_counted_per_feature_and_per_channel() -> None:
    dense = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    with torch.no_grad():
        dense[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]))
        dense[0].bias.zero_()
    with count_dead_units(dense) as counter:
        dense(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))  # unit 3 never fires
    assert counter.dead_fraction() == pytest.approx(1 / 3)
    conv = nn.Sequential(nn.Conv2d(1, 2, 1), nn.ReLU())
    with torch.no_grad():
        conv[0].weight.copy_(torch.tensor([1.0, -1.0]).view(2, 1, 1, 1))
        conv[0].bias.zero_()
    with count_dead_units(conv) as counter:
        conv(torch.rand(3, 1, 4, 4) + 0.1)  # channel 2 is negative everywhere
    assert counter.dead_fraction() == 0.5
    conv(torch.rand(1, 1, 4, 4))  # hooks are gone after the block
    assert counter.dead_fraction() == 0.5


def test_a_relu_reused_at_two_widths_is_counted_at_each() -> None:
    # ResNet-50's Bottleneck applies one ReLU to 64 and to 256 channels.
    relu = nn.ReLU()
    narrow, wide = nn.Conv2d(1, 2, 1), nn.Conv2d(2, 4, 1)
    with torch.no_grad():
        for conv, signs in ((narrow, [1.0, 1.0]), (wide, [1.0, 1.0, -1.0, -1.0])):
            conv.weight.copy_(
                torch.tensor(signs).view(-1, 1, 1, 1).expand_as(conv.weight)
            )
            conv.bias.zero_()
    model = nn.Sequential(narrow, relu, wide, relu)
    with count_dead_units(model) as counter:
        model(torch.rand(3, 1, 4, 4) + 0.1)
    assert counter.dead_fraction() == 0.5  # the wide output's negative half


@pytest.fixture(scope="module")
def collapse_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ml_core.data import write_synthetic_pcam

    out = tmp_path_factory.mktemp("collapse") / "pcam"
    return write_synthetic_pcam(out, n_train=2048, n_valid=256, n_test=256, seed=0)


def _overrides(data_dir: Path, name: str, *extra: str) -> list[str]:
    settings = ("seed=4", "training.epochs=1", "training.val_every_steps=32")
    return run_overrides(data_dir, name, *settings, *extra)


def _validations(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "validation.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_course_literal_values_collapse_and_are_reported(
    collapse_data: Path, tmp_path: Path
) -> None:
    course = ["data.normalize=false", "training.grad_clip_norm=null"]
    result = run_cli("ml-train", _overrides(collapse_data, "course", *course), tmp_path)
    assert result.returncode == 0, result.stderr
    run_dir = tmp_path / "experiments/results/course"
    rows = _validations(run_dir)
    assert [int(row["step"]) for row in rows] == list(range(32, 257, 32))
    assert [bool(row["warning"]) for row in rows] == [False, False] + [True] * 6
    assert float(rows[1]["val_auroc"]) > 0.95
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 6
    assert all("COLLAPSE at epoch 1 step" in line for line in warnings)
    assert "COLLAPSED:" in result.stderr  # the epoch's summary line says so too
    with (run_dir / "metrics.csv").open(newline="") as handle:
        (epoch_row,) = csv.DictReader(handle)
    assert epoch_row["warning"] == rows[-1]["warning"]
    best = torch.load(run_dir / "checkpoints/best.pt", weights_only=True)
    assert (best["epoch"], best["step"]) == (1, 64)  # the good model, not the dead one
    assert not best["metrics"]["warning"]
    assert ml_viz_main(["report", str(run_dir)]) == 0
    page = (run_dir / "report.html").read_text()
    assert f"WARNING: epoch 1: the model collapsed: {rows[-1]['warning']}" in page


@pytest.mark.slow
def test_defaults_train_the_same_setup_without_collapse(
    collapse_data: Path, tmp_path: Path
) -> None:
    result = run_cli("ml-train", _overrides(collapse_data, "defaults"), tmp_path)
    assert result.returncode == 0, result.stderr
    rows = _validations(tmp_path / "experiments/results/defaults")
    assert not any(row["warning"] for row in rows)
    assert "WARNING" not in result.stderr
    assert min(float(row["val_auroc"]) for row in rows[2:]) > 0.95


@pytest.mark.slow
def test_nan_loss_stops_with_exit_3_and_keeps_the_last_good_checkpoint(
    tiny_pcam_dir: Path, tmp_path: Path
) -> None:
    args = _overrides(tiny_pcam_dir, "diverges", "training.val_every_steps=0")
    assert run_cli("ml-train", args, tmp_path).returncode == 0
    run_dir = tmp_path / "experiments/results/diverges"
    last = run_dir / "checkpoints/last.pt"
    before = last.read_bytes(), (run_dir / "metrics.csv").read_bytes()
    # A second epoch at an absurd rate: the weights overflow within a few steps.
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    config["training"].update(epochs=2, learning_rate=1e30)
    config["training"]["grad_clip_norm"] = None
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    result = run_cli("ml-train", ["--resume", str(run_dir)], tmp_path)
    assert result.returncode == 3, result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("ml-train: error: epoch 2 by step ")
    assert "the training loss is nan" in error or "the training loss is inf" in error
    assert f"{last} (from before) is kept" in error
    assert (last.read_bytes(), (run_dir / "metrics.csv").read_bytes()) == before

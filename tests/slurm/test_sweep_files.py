"""Sweep files expand into grid points; aggregate.csv holds mean and std per epoch."""

from __future__ import annotations

import csv
import math
import statistics
from pathlib import Path

import pytest

from ml_core.contract import METRIC_COLUMNS, NUMERIC_METRICS
from ml_core.slurm import (
    GridPoint,
    SlurmInputError,
    SweepSpec,
    load_sweep,
    write_aggregate,
)

COLLAPSED = "constant predictions (probability std 1.0e-04)"


def write_sweep(path: Path, body: str) -> Path:
    path.write_text(body)
    return path


def write_metrics(run_dir: Path, rows: list[dict[str, object]]) -> Path:
    """metrics.csv with the trainer's columns; cells not in a row are 0.5, no warning."""
    run_dir.mkdir(parents=True)
    with (run_dir / "metrics.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=METRIC_COLUMNS)
        writer.writeheader()
        for epoch, values in enumerate(rows, start=1):
            cells = dict.fromkeys(METRIC_COLUMNS, 0.5)
            writer.writerow({**cells, "epoch": epoch, "warning": "", **values})
    return run_dir


def test_grid_expands_in_file_order_with_groups(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text("experiment_name: base\n")
    spec = load_sweep(
        write_sweep(
            tmp_path / "sweep.yaml",
            "name: lr_seed\nconfig: base.yaml\nset: [training.epochs=2]\n"
            "grid:\n  training.learning_rate: [0.001, 0.01]\n  seed: [0, 1, 2]\n"
            "parallel: 2\npreset: local\n",
        )
    )
    points = spec.points()
    assert spec.is_array
    assert spec.config == (tmp_path / "base.yaml").resolve()
    assert spec.overrides == ("training.epochs=2",)
    assert (spec.parallel, spec.preset) == (2, "local")
    assert len(points) == 6
    assert points[4].overrides == ("training.learning_rate=0.01", "seed=1")
    assert [point.group for point in points[:4]] == [
        "learning_rate=0.001",
        "learning_rate=0.001",
        "learning_rate=0.001",
        "learning_rate=0.01",
    ]


def test_string_and_list_values_keep_their_yaml_type(tmp_path: Path) -> None:
    spec = load_sweep(
        write_sweep(
            tmp_path / "s.yaml",
            "name: s\nconfig: c.yaml\n"
            "grid:\n  model.hidden_units: [[64, 32], [8]]\n  training.optimizer: [sgd]\n",
        )
    )
    first = spec.points()[0]
    assert first.overrides == (
        "model.hidden_units=[64, 32]",
        'training.optimizer="sgd"',
    )
    assert first.group == "hidden_units=[64,32],optimizer=sgd"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("name: x\nconfig: c.yaml\n", "grid: required"),
        ("name: 'a;b'\nconfig: c.yaml\ngrid: {seed: [1]}\n", "name"),
        ("name: x\nconfig: c.yaml\ngrid: {seed: []}\n", "non-empty list"),
        ("name: x\nconfig: c.yaml\ngrid: {seed: [1, 1]}\n", "repeat"),
        ("name: x\nconfig: c.yaml\ngrid: {seed: [1]}\nparallel: 0\n", "parallel"),
        (
            "name: x\nconfig: c.yaml\ngrid: {seed: [1]}\nextra: 1\n",
            "extra: unknown key",
        ),
        ("name: x\nconfig: c.yaml\ngrid: {seed: [1]}\nset: [epochs]\n", "set"),
        ("- not a mapping\n", "mapping"),
        ("", "mapping"),
        # The hardened reader ml-train's configs go through: no RecursionError escapes.
        ("name: x\nconfig: c.yaml\ngrid: " + "[" * 5000 + "]" * 5000, "too deeply"),
        ("name: x\0\n", "NUL bytes"),
        ("name: x\n" + "#" * (1024 * 1024), "over the 1 MiB limit"),
    ],
)
def test_bad_sweep_files_are_refused(tmp_path: Path, body: str, problem: str) -> None:
    with pytest.raises(SlurmInputError, match=problem):
        load_sweep(write_sweep(tmp_path / "bad.yaml", body))


def test_a_missing_sweep_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SlurmInputError, match=r"absent\.yaml: sweep file not found"):
        load_sweep(tmp_path / "absent.yaml")


def test_a_single_run_is_a_sweep_of_one_point() -> None:
    spec = SweepSpec.single_run(Path("c.yaml"), ("seed=1",), "cpu")
    assert not spec.is_array
    assert spec.config == Path("c.yaml").resolve()
    assert spec.points() == [GridPoint((), "all")]


def test_aggregate_is_mean_and_sample_std_per_group_and_epoch(tmp_path: Path) -> None:
    def row(loss: float, **more: object) -> dict[str, object]:
        return {"train_loss": loss, "val_loss": loss + 1, "lr": 0.001, **more}

    runs = [
        ("lr=0.1", write_metrics(tmp_path / "a", [row(1.0), row(0.5)])),
        ("lr=0.1", write_metrics(tmp_path / "b", [row(3.0, warning=COLLAPSED)])),
        ("lr=0.01", write_metrics(tmp_path / "c", [row(2.0), row(1.0, val_f1="")])),
        ("lr=0.01", tmp_path / "not_started"),
    ]
    out = tmp_path / "aggregate.csv"
    assert write_aggregate(out, runs) == 4
    with out.open(newline="") as handle:
        table = list(csv.DictReader(handle))
    header = list(table[0])
    assert header[:4] == ["group", "epoch", "train_loss_mean", "train_loss_std"]
    assert header[-2:] == ["n_runs", "n_collapsed"]
    assert header[2:-2] == [
        f"{m}_{s}" for m in NUMERIC_METRICS for s in ("mean", "std")
    ]
    assert "warning_mean" not in header
    assert "epoch_seconds_mean" not in header
    # Exact binary fractions throughout: mean and std are compared with float equality.
    first = table[0]
    assert (first["group"], first["epoch"], first["n_runs"]) == ("lr=0.1", "1", "2")
    assert first["n_collapsed"] == "1"
    assert float(first["train_loss_mean"]) == 2.0
    assert float(first["train_loss_std"]) == statistics.stdev([1.0, 3.0])
    assert float(first["val_loss_mean"]) == 3.0
    assert float(first["val_dead_units_mean"]) == 0.5
    second = table[1]
    assert (second["epoch"], second["n_runs"], second["n_collapsed"]) == ("2", "1", "0")
    assert float(second["train_loss_std"]) == 0.0
    assert [r["group"] for r in table] == ["lr=0.1", "lr=0.1", "lr=0.01", "lr=0.01"]
    assert not math.isnan(float(table[3]["lr_mean"]))
    # An empty cell is left out of the mean, not read as 0.
    assert math.isnan(float(table[3]["val_f1_mean"]))

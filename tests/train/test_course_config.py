"""The course's YAML, unchanged, on PCAM-format files; then ``ml-eval`` on the run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from ml_core.cli.train import eval_main as ml_eval_main

from .conftest import read_metrics, run_cli, run_directory_line

pytestmark = pytest.mark.slow

COURSE_YAML = Path(__file__).resolve().parents[2] / "configs" / "course.yaml"


@pytest.fixture(scope="module")
def course_run(
    tmp_path_factory: pytest.TempPathFactory, tiny_pcam_dir: Path
) -> tuple[Path, Path]:
    """Run configs/course.yaml in a directory whose ./data/pcam holds the tiny PCAM."""
    cwd = tmp_path_factory.mktemp("course")
    shutil.copy(COURSE_YAML, cwd / "course.yaml")
    (cwd / "data").mkdir()
    (cwd / "data" / "pcam").symlink_to(tiny_pcam_dir)
    result = run_cli("ml-train", ["--config", "course.yaml"], cwd)
    assert result.returncode == 0, result.stderr
    return cwd, cwd / run_directory_line(result.stdout)


def test_course_yaml_runs_unchanged(course_run: tuple[Path, Path]) -> None:
    cwd, run_dir = course_run
    assert (cwd / "course.yaml").read_bytes() == COURSE_YAML.read_bytes()
    assert run_dir == cwd / "experiments/results/mlp_pcam_baseline"
    assert len(read_metrics(run_dir)) == 5
    resolved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert resolved["seed"] == 42
    assert resolved["data"]["num_workers"] == 2
    assert resolved["model"]["hidden_units"] == [64, 32]
    assert resolved["training"]["epochs"] == 5
    assert (run_dir / "test_metrics.json").is_file()


def test_ml_eval_prints_and_writes_metrics(course_run: tuple[Path, Path]) -> None:
    cwd, run_dir = course_run
    result = run_cli(
        "ml-eval", [str(run_dir), "--split", "valid", "--checkpoint", "last"], cwd
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["split"] == "valid"
    assert report["checkpoint"] == "last"
    assert report["num_samples"] == 48
    assert sum(map(sum, report["confusion_matrix"])) == 48
    assert "rows: true label" in result.stderr
    written = json.loads((run_dir / "eval_valid_last.json").read_text())
    assert written == report


def test_ml_eval_best_on_test_matches_training_report(
    course_run: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, run_dir = course_run
    assert ml_eval_main([str(run_dir)]) == 0
    report = json.loads(capsys.readouterr().out)
    trained = json.loads((run_dir / "test_metrics.json").read_text())
    # Same weights and batches; only the CPU thread count may differ (last bits).
    for key in ("split", "checkpoint", "num_samples", "confusion_matrix"):
        assert report[key] == trained[key]
    for key in ("loss", "accuracy", "f1", "auroc"):
        assert report[key] == pytest.approx(trained[key], rel=1e-5)


def test_ml_eval_bad_run_dir_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ml_eval_main([str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"ml-eval: error: {tmp_path / 'missing'}: run directory not found"
    ]


def test_ml_eval_of_a_file_says_it_is_not_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "config.yaml").write_text("seed: 1\n")
    assert ml_eval_main([str(tmp_path / "config.yaml")]) == 2
    assert capsys.readouterr().err == (
        f"ml-eval: error: {tmp_path / 'config.yaml'}: not a directory\n"
    )

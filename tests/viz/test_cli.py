"""``ml-viz``: real subprocesses for each command's success and bad-input paths, and
in-process ``main()`` for the remaining argument handling (a subprocess costs ~1 s)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ml_core.viz.cli import main


def ml_viz(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ml_core.viz.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_curves_writes_png(tmp_path: Path, write_run) -> None:
    run = write_run(tmp_path / "run")
    result = ml_viz("curves", run)
    assert result.returncode == 0, result.stderr
    assert (run / "curves.png").is_file()
    assert str(run / "curves.png") in result.stdout


def test_curves_bad_input_one_line_exit_2(tmp_path: Path) -> None:
    # Every kind of bad CSV is covered in-process (test_curves.py); this checks the CLI.
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.csv").write_text("epoch,train_loss\n1,not-a-number\n")
    out = tmp_path / "out" / "curves.png"
    result = ml_viz("curves", run, "--out", out)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "metrics.csv" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.parent.exists()
    assert [p.name for p in run.iterdir()] == ["metrics.csv"]


def test_report_writes_html(tmp_path: Path, write_evaluated_run) -> None:
    run = write_evaluated_run(tmp_path / "run")
    result = ml_viz("report", run)
    assert result.returncode == 0, result.stderr
    assert (run / "report.html").read_text().startswith("<!DOCTYPE html>")


@pytest.mark.slow  # the eda command imports torch (through ml_core.data)
def test_eda_on_non_pcam_directory_exit_2(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notes.txt").write_text("not PCAM")
    result = ml_viz("eda", tmp_path / "data", "--out", tmp_path / "eda")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "not a PCAM directory" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "eda").exists()


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    help_text = capsys.readouterr().out
    for command in ("curves", "eda", "report"):
        assert command in help_text


def test_curves_on_dir_without_metrics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["curves", str(tmp_path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not list(tmp_path.iterdir())


def test_report_without_metrics_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "r.html")]) == 2
    assert "no metrics.csv" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_eda_bad_option_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eda", str(tmp_path), "--batch-size", "0"]) == 2
    assert "batch_size: must be at least 1" in capsys.readouterr().err


def test_unwritable_output_one_line(
    tmp_path: Path, write_run, capsys: pytest.CaptureFixture[str]
) -> None:
    run = write_run(tmp_path / "run")
    (tmp_path / "file").write_text("a file, not a directory")
    # The caller's --out is impossible: bad input (2), not an internal error (1).
    assert main(["curves", str(run), "--out", str(tmp_path / "file" / "c.png")]) == 2
    assert capsys.readouterr().err == (
        f"ml-viz curves: error: cannot write {tmp_path / 'file'}: "
        "it is not a directory\n"
    )

"""``ml-viz``: the console script for each command's success and bad-input paths, the
front end's ``main()`` in-process for the rest, and what the front end imports."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

import ml_core.cli.viz
from ml_core.cli.viz import main
from tests.forked_cli import run_forked

COMMANDS = ("curves", "eda", "report")


def ml_viz(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``ml-viz args`` as its own process (forked from the pre-imported server)."""
    return run_forked("ml-viz", list(map(str, args)), Path.cwd(), timeout=60)


def test_curves_writes_png(tmp_path: Path, write_run) -> None:
    run = write_run(tmp_path / "run")
    result = ml_viz("curves", run)
    assert result.returncode == 0, result.stderr
    assert (run / "curves.png").is_file()
    assert result.stdout == f"wrote {run / 'curves.png'}\n"


def test_curves_bad_input_one_line_exit_2(tmp_path: Path) -> None:
    # Every kind of bad CSV is covered in-process (test_curves.py); this checks the CLI.
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.csv").write_text("epoch,train_loss\n1,not-a-number\n")
    out = tmp_path / "out" / "curves.png"
    result = ml_viz("curves", run, "--out", out)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("ml-viz curves: error: ")
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


def test_front_end_imports_neither_torch_nor_matplotlib_early(
    tmp_path: Path, write_evaluated_run
) -> None:
    """Help and usage errors load no matplotlib; curves and report load no torch."""
    run = write_evaluated_run(tmp_path / "run")
    early = [
        ["--help"],
        *([command, "--help"] for command in COMMANDS),
        ["--no-such-flag"],
        [],
        ["curves"],
        ["eda", str(tmp_path), "--batch-size", "many"],
        ["report", str(run), "--no-such-flag"],
    ]
    late = [["curves", str(run)], ["report", str(run)]]
    script = f"""
import json, sys
from ml_core.cli.viz import main
from tests.forked_cli import run_forked

def run(argv):
    try:
        return main(argv)
    except SystemExit as exit:
        return exit.code

early = [run(argv) for argv in {early!r}]
loaded_early = sorted({{"matplotlib", "torch"}} & set(sys.modules))
late = [run(argv) for argv in {late!r}]
print(json.dumps([early, loaded_early, late, "torch" in sys.modules]))
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    early_codes, loaded_early, late_codes, torch_loaded = json.loads(
        result.stdout.splitlines()[-1]
    )
    assert early_codes == [0, 0, 0, 0, 2, 2, 2, 2, 2]
    assert loaded_early == []
    assert late_codes == [0, 0]
    assert (run / "curves.png").is_file()
    assert (run / "report.html").is_file()
    assert torch_loaded is False


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_is_quick(command: str | None) -> None:
    # Importing matplotlib alone takes over a second here: a help that stays under
    # 1.5 s (interpreter start included, on a loaded machine) has not loaded it.
    args = ["--help"] if command is None else [command, "--help"]
    started = time.perf_counter()
    result = ml_viz(*args)
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: ml-viz")
    assert elapsed < 1.5


def test_help_lists_commands_and_eda_defaults(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    help_text = capsys.readouterr().out
    for command in COMMANDS:
        assert command in help_text
    with pytest.raises(SystemExit):
        main(["eda", "--help"])
    eda_help = " ".join(capsys.readouterr().out.split())
    for flag, value in [
        ("--batch-size", 32),
        ("--seed", 0),
        ("--sampler-batches", 200),
        ("--max-patches", "all"),
        ("--examples", 8),
    ]:
        assert flag in eda_help
        assert f"(default {value})" in eda_help


def test_usage_error_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["curves"])
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("ml-viz curves: error: ")


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


@pytest.mark.parametrize(
    ("flag", "value", "problem"),
    [
        ("--batch-size", "0", "batch_size: must be at least 1, got 0"),
        ("--sampler-batches", "0", "sampler_batches: must be at least 1, got 0"),
        ("--examples", "0", "examples_per_class: must be at least 1, got 0"),
        ("--max-patches", "0", "max_patches: must be at least 1, got 0"),
        ("--seed", "-1", "seed: must be non-negative, got -1"),
    ],
)
def test_eda_bad_option_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    flag: str,
    value: str,
    problem: str,
) -> None:
    assert main(["eda", str(tmp_path), flag, value]) == 2
    assert capsys.readouterr().err == f"ml-viz eda: error: {problem}\n"
    assert not list(tmp_path.iterdir())


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


def test_front_end_public_names() -> None:
    for name in ml_core.cli.viz.__all__:
        assert hasattr(ml_core.cli.viz, name)

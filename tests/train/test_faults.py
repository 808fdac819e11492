"""Faults a careless user causes, each a clean exit: one line, the right code, no loss.

In-process runs on a tiny PCAM (fast); the read-only cases run a real subprocess as an
unprivileged user (root may write anywhere), the disk-full cases under a real file-size
limit (``RLIMIT_FSIZE``: the write fails with EFBIG, as on a full disk).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import yaml

from ml_core.cli.train import eval_main, train_main
from ml_core.contract import EXIT_BAD_INPUT, EXIT_INTERNAL_ERROR
from ml_core.train import CheckpointError, load_checkpoint, save_checkpoint
from tests.forked_cli import run_forked

from .conftest import run_cli, run_overrides


def _settings(data_dir: Path, name: str, *extra: str) -> list[str]:
    return run_overrides(
        data_dir, name, "model.hidden_units=[8]", "training.epochs=1", *extra
    )


@pytest.fixture
def finished_run(
    tiny_pcam_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.chdir(tmp_path)
    assert train_main(_settings(tiny_pcam_dir, "run")) == 0
    return tmp_path / "experiments/results/run"


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def _flip_a_weight_bit(path: Path) -> None:
    """Flip one bit inside a stored tensor; the zip around it stays valid."""
    with zipfile.ZipFile(path) as archive:
        info = next(i for i in archive.infolist() if "/data/" in i.filename)
    with path.open("r+b") as handle:
        handle.seek(info.header_offset + 26)
        name_length, extra_length = (
            int.from_bytes(handle.read(2), "little") for _ in "ab"
        )
        handle.seek(info.header_offset + 30 + name_length + extra_length + 3)
        byte = handle.read(1)[0]
        handle.seek(-1, os.SEEK_CUR)
        handle.write(bytes([byte ^ 0x10]))


def test_a_flipped_bit_is_refused(
    finished_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    last = finished_run / "checkpoints/last.pt"
    torch.load(last, weights_only=True)  # still a valid file before and after
    _flip_a_weight_bit(last)
    torch.load(last, weights_only=True)
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        load_checkpoint(last)
    capsys.readouterr()
    assert train_main(["--resume", str(finished_run)]) == EXIT_BAD_INPUT
    error = _one_error_line(capsys)
    assert f"{last}: checksum mismatch" in error
    assert "best.pt" in error


@pytest.mark.parametrize("kind", ["best copied over last", "format key only"])
def test_a_checkpoint_without_resume_state_names_what_it_lacks(
    finished_run: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    last = finished_run / "checkpoints/last.pt"
    if kind == "best copied over last":
        shutil.copyfile(finished_run / "checkpoints/best.pt", last)
    else:
        torch.save({"format": 2}, last)
    capsys.readouterr()
    assert train_main(["--resume", str(finished_run)]) == EXIT_BAD_INPUT
    error = _one_error_line(capsys)
    assert f"{last}: lacks " in error
    assert "optimizer" in error
    assert "which resuming needs" in error


def _edit(run_dir: Path, section: str, key: str, value: object) -> None:
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    config[section][key] = value
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


@pytest.mark.parametrize(
    ("section", "key", "value", "old"),
    [
        ("model", "hidden_units", [32], "[8]"),
        ("training", "optimizer", "sgd", "'adam'"),
        ("data", "batch_size", 16, "8"),
    ],
)
def test_edited_config_that_breaks_the_checkpoint_is_refused(
    finished_run: Path,
    capsys: pytest.CaptureFixture[str],
    section: str,
    key: str,
    value: object,
    old: str,
) -> None:
    _edit(finished_run, section, key, value)
    _edit(finished_run, "training", "epochs", 2)
    before = (finished_run / "checkpoints/last.pt").read_bytes()
    capsys.readouterr()
    assert train_main(["--resume", str(finished_run)]) == EXIT_BAD_INPUT
    error = _one_error_line(capsys)
    assert f"{section}.{key}: the checkpoint was trained with {old}" in error
    assert (finished_run / "checkpoints/last.pt").read_bytes() == before


def test_edited_learning_rate_resumes_and_is_recorded(finished_run: Path) -> None:
    _edit(finished_run, "training", "epochs", 2)
    _edit(finished_run, "training", "learning_rate", 0.0001)
    assert train_main(["--resume", str(finished_run)]) == 0
    environment = json.loads((finished_run / "env.json").read_text())
    changes = environment["resumes"][-1]["config_changes"]
    assert changes == {
        "training.epochs": [1, 2],
        "training.learning_rate": [0.001, 0.0001],
    }


def test_ml_eval_of_an_edited_model_section_is_refused(
    finished_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(finished_run, "model", "hidden_units", [32])
    capsys.readouterr()
    assert eval_main([str(finished_run)]) == EXIT_BAD_INPUT
    error = _one_error_line(capsys)
    assert "model.hidden_units: the checkpoint was trained with [8]" in error


@pytest.fixture
def readonly_run(finished_run: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy of the finished run on a read-only filesystem (root: a tmpfs remounted
    read-only, which binds root too); without root, read-only permissions."""
    mount_point = tmp_path / "readonly"
    mount_point.mkdir()
    as_root = os.geteuid() == 0
    if as_root:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount_point)],
            check=True,
        )
    copy = mount_point / "run"
    shutil.copytree(finished_run, copy)
    try:
        if as_root:
            subprocess.run(["mount", "-o", "remount,ro", str(mount_point)], check=True)
        else:
            for path in [mount_point, *mount_point.rglob("*")]:
                path.chmod(0o555 if path.is_dir() else 0o444)
        yield copy
    finally:
        if as_root:
            subprocess.run(["umount", str(mount_point)], check=True)
        else:
            for path in [mount_point, *mount_point.rglob("*")]:
                path.chmod(0o755 if path.is_dir() else 0o644)


def test_readonly_save_dir_is_refused_before_anything_runs(readonly_run: Path) -> None:
    save_dir = readonly_run.parent
    result = run_cli("ml-train", ["--set", f"training.save_dir={save_dir}"], save_dir)
    assert result.returncode == EXIT_BAD_INPUT, result.stderr
    expected = (
        f"ml-train: error: --set: training.save_dir: cannot create runs in {save_dir} "
        "(not writable: read-only or permission denied)"
    )
    assert result.stderr.strip().splitlines() == [expected]


def test_ml_eval_on_a_readonly_run_prints_the_metrics(readonly_run: Path) -> None:
    result = run_cli("ml-eval", [str(readonly_run)], readonly_run.parent)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["split"] == "test"
    assert "Traceback" not in result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(
        f"ml-eval: error: could not write {readonly_run}/eval_test_best.json: "
    )
    assert error.endswith(
        "the metrics are on stdout (--out FILE writes them elsewhere)"
    )
    written = readonly_run.parent.parent / "elsewhere.json"
    again = run_cli("ml-eval", [str(readonly_run), "--out", str(written)], Path.cwd())
    assert again.returncode == 0, again.stderr
    assert json.loads(written.read_text()) == json.loads(result.stdout)


def test_ml_viz_report_on_a_readonly_run_names_the_place(readonly_run: Path) -> None:
    result = run_cli("ml-viz", ["report", str(readonly_run)], readonly_run.parent)
    assert result.returncode == EXIT_BAD_INPUT, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"ml-viz report: error: cannot write {readonly_run}")
    assert lines[0].endswith(("read-only file system", "permission denied"))


def _with_file_size_limit(
    limit: int, args: list[str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return run_forked("ml-train", args, cwd, file_size_limit=limit)


@pytest.mark.slow
def test_disk_full_at_the_start_leaves_no_run(
    tiny_pcam_dir: Path, tmp_path: Path
) -> None:
    # The first checkpoint (~1 MB: 27,648 x 8 weights) cannot be written under 64 KB.
    result = _with_file_size_limit(
        64 * 1024, _settings(tiny_pcam_dir, "full"), tmp_path
    )
    assert result.returncode == EXIT_INTERNAL_ERROR, result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("ml-train: error: disk full at ")
    assert "Traceback" not in result.stderr
    results = tmp_path / "experiments/results"
    assert not results.exists() or list(results.iterdir()) == []


@pytest.mark.slow
def test_disk_full_mid_run_keeps_the_last_good_checkpoint(
    tiny_pcam_dir: Path, tmp_path: Path
) -> None:
    args = _settings(tiny_pcam_dir, "mid", "training.epochs=2")
    # Step 0's last.pt holds no Adam moments (~0.9 MB); epoch 1's holds them (~2.7 MB).
    result = _with_file_size_limit(2 * 1024**2, ["--auto-resume", *args], tmp_path)
    assert result.returncode == EXIT_INTERNAL_ERROR, result.stderr
    last = tmp_path / "experiments/results/mid/checkpoints/last.pt"
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(
            f"ml-train: error: disk full at {Path('experiments/results/mid/checkpoints/last.pt')}"
        )
    )
    assert load_checkpoint(last)["epoch"] == 1  # step 0's, intact
    assert not list(last.parent.glob(".*.tmp"))  # no half-written temp file
    resumed = run_cli("ml-train", ["--auto-resume", *args], tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stderr


def test_checkpoint_write_failure_is_a_disk_full_error(tmp_path: Path) -> None:
    save_checkpoint(tmp_path / "ok.pt", {"weights": torch.zeros(4)})
    code = (
        "import resource, sys, torch\n"
        "from ml_core.train import save_checkpoint\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))\n"
        f"save_checkpoint(sys.argv[1], {{'weights': torch.zeros({1 << 20})}})\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "ok.pt")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "DiskFullError" in result.stderr
    assert f"disk full at {tmp_path / 'ok.pt'}" in result.stderr
    assert load_checkpoint(tmp_path / "ok.pt")["weights"].shape == (4,)  # 4 MB: no

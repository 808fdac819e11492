"""ml-data: real subprocesses for exit codes and one-line errors; main() in-process
for the successful paths (same code, without paying a torch import per call)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ml_core.cli.data import main
from ml_core.data import official_file_names, read_synthetic_metadata
from tests.forked_cli import run_forked

if TYPE_CHECKING:  # the fixture's class, for annotations only
    from conftest import PCAMServer


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    """``ml-data args`` as its own process (forked from the pre-imported server)."""
    return run_forked("ml-data", args, Path.cwd())


def _assert_one_line_error(result: subprocess.CompletedProcess[str], text: str) -> None:
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert text in lines[0]


def test_synth_then_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "synth"
    argv = ["synth", "--out", str(out), "--n-train", "20", "--n-valid", "10"]
    assert main([*argv, "--n-test", "10", "--seed", "3"]) == 0
    assert read_synthetic_metadata(out)["seed"] == 3
    assert main(["check", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert report["ok"]
    assert report["splits"]["train"]["num_samples"] == 20


def test_fetch_from_local_server(
    tmp_path: Path, server: PCAMServer, checksums: Path
) -> None:
    out = tmp_path / "pcam"
    argv = ["fetch", "--out", str(out), "--base-url", server.base_url]
    assert main([*argv, "--checksums", str(checksums)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(official_file_names())


def test_bad_arguments_exit_2_with_one_line(tmp_path: Path) -> None:
    result = _run("synth", "--out", str(tmp_path), "--n-train", "0")
    _assert_one_line_error(result, "--n-train: expected an integer >= 1, got 0")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "{tmp}/absent"], "{tmp}/absent: data directory not found"),
        (
            ["fetch", "--out", "{tmp}/pcam", "--base-url", "zenodo.org/files"],
            "--base-url 'zenodo.org/files': expected an http:// or https:// URL",
        ),
        (
            ["synth", "--out", "{tmp}/pcam", "--n-train", "10000000000000"],
            "10,000,000,002,048 patches need 276,480,000",
        ),
    ],
    ids=["check missing directory", "fetch URL without scheme", "synth beyond disk"],
)
def test_impossible_requests_exit_2_with_one_line_and_write_nothing(
    args: list[str], message: str, tmp_path: Path
) -> None:
    result = _run(*(arg.format(tmp=tmp_path) for arg in args))
    _assert_one_line_error(result, message.format(tmp=tmp_path))
    assert not list(tmp_path.iterdir())


def test_check_of_broken_directory_exits_2_one_line_per_problem(
    tmp_path: Path, tiny_pcam_dir: Path
) -> None:
    for name in official_file_names():
        (tmp_path / name).write_bytes((tiny_pcam_dir / name).read_bytes())
    (tmp_path / official_file_names()[0]).write_bytes(b"truncated")
    result = _run("check", str(tmp_path))
    _assert_one_line_error(result, "train_x.h5: not a readable HDF5 file")
    assert "NOT usable: 1 problem(s)" in result.stdout


def test_fetch_of_wrong_bytes_exits_2_and_installs_nothing(
    tmp_path: Path, server: PCAMServer, checksums: Path
) -> None:
    name = official_file_names()[0]
    server.corrupt.add(f"{name}.gz")
    wrong = hashlib.md5(b"x", usedforsecurity=False).hexdigest()
    (tmp_path / "sums.md5").write_text(checksums.read_text() + f"{wrong}  {name}.gz\n")
    result = _run(
        "fetch", "--out", str(tmp_path / "pcam"), "--base-url", server.base_url,
        "--checksums", str(tmp_path / "sums.md5"),
    )  # fmt: skip
    _assert_one_line_error(result, f"{name}.gz: md5 of the download is")
    assert not (tmp_path / "pcam" / name).exists()

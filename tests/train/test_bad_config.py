"""Bad input to ``ml-train``: exit 2, one stderr line naming the key and file, no files.

The matrix calls the CLI's ``main`` in-process (fast: it fails before data or model);
one case runs the real console script to check the same from the outside.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ml_core.cli.train import train_main as ml_train_main

from .conftest import run_installed

CASES = {
    "unknown key": ("training:\n  epoch: 3\n", [], ["training.epoch", "unknown key"]),
    "unknown top-level key": ("optimiser: adam\n", [], ["optimiser", "unknown key"]),
    "wrong type": ("data:\n  batch_size: big\n", [], ["data.batch_size", "integer"]),
    "out of range": (
        "training:\n  learning_rate: -0.1\n",
        [],
        ["training.learning_rate", "> 0"],
    ),
    "dropout out of range": (
        "model:\n  dropout_rate: 1.5\n",
        [],
        ["model.dropout_rate", "[0, 1)"],
    ),
    "bad choice": (
        "training:\n  optimizer: rmsprop\n",
        [],
        ["training.optimizer", "adam"],
    ),
    "pcam without data_path": (
        "data:\n  dataset_type: pcam\n",
        [],
        ["data.data_path", "required"],
    ),
    "missing data directory": (
        "data:\n  dataset_type: pcam\n  data_path: ./nowhere\n",
        [],
        ["data.data_path", "does not exist"],
    ),
    "escaping experiment name": (
        "experiment_name: ../outside\n",
        [],
        ["experiment_name", "letters"],
    ),
    "unknown model": ("model:\n  name: resnet\n", [], ["model.name", "resnet"]),
    "wrong input shape": (
        "data:\n  input_shape: [1, 28, 28]\n",
        [],
        ["data.input_shape", "[3, 96, 96]"],
    ),
    "invalid yaml": ("data: [unclosed\n", [], ["invalid YAML", "line"]),
    "not a mapping": ("- a\n- b\n", [], ["top level"]),
    "override wrong type": (
        "seed: 1\n",
        ["--set", "training.epochs=many"],
        ["--set", "training.epochs", "integer"],
    ),
    "override without value": (
        "seed: 1\n",
        ["--set", "training.epochs"],
        ["key.path=value"],
    ),
    "override into a value": (
        "seed: 3\n",
        ["--set", "seed.x=1"],
        ["--set seed.x=1", "not a section"],
    ),
    "auto-resume without name": (
        "seed: 1\n",
        ["--auto-resume"],
        ["experiment_name", "fixed"],
    ),
    "empty file": ("", [], ["empty"]),
    "only comments": ("# nothing set yet\n\n# still nothing\n", [], ["empty"]),
    "nan learning rate": (
        "training:\n  learning_rate: .nan\n",
        [],
        ["training.learning_rate", "nan"],
    ),
    "infinite learning rate": (
        "training:\n  learning_rate: .inf\n",
        [],
        ["training.learning_rate", "inf"],
    ),
    "nan dropout": ("model:\n  dropout_rate: .nan\n", [], ["model.dropout_rate"]),
    "negative clipping": (
        "training:\n  grad_clip_norm: -1\n",
        [],
        ["training.grad_clip_norm", "> 0"],
    ),
    "not UTF-8": (b"seed: 1\nname: caf\xe9\n", [], ["not a UTF-8 text file"]),
    "binary": (bytes(range(256)) * 4, [], ["UTF-8"]),
    "NUL bytes": (b"seed: 1\x00\n", [], ["binary data"]),
    "over 1 MiB": (b"# padding\n" * 110_000, [], ["over the 1 MiB limit"]),
    "too many workers": (
        "data:\n  num_workers: 1000\n",
        [],
        ["data.num_workers", "at most 128"],
    ),
    "save_dir is a file": (
        "training:\n  save_dir: bad.yaml\n",
        [],
        ["training.save_dir", "not a directory"],
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_config_is_one_line_exit_2_nothing_written(
    case: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    text, extra, fragments = CASES[case]
    config = tmp_path / "bad.yaml"
    config.write_bytes(text.encode() if isinstance(text, str) else text)
    monkeypatch.chdir(tmp_path)
    assert ml_train_main(["--config", "bad.yaml", *extra]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("ml-train: error: ")
    source = "--set" if "--set" in extra and "override" in case else "bad.yaml"
    for fragment in [source, *fragments]:
        assert fragment in lines[0]
    assert captured.out == ""
    assert [path.name for path in tmp_path.iterdir()] == ["bad.yaml"]


@pytest.mark.parametrize("path", ["/dev/zero", "."], ids=["device", "directory"])
def test_config_that_is_not_a_regular_file_is_refused_unread(
    path: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert ml_train_main(["--config", path]) == 2  # /dev/zero would never end
    assert capsys.readouterr().err == (
        f"ml-train: error: {path}: config file not a regular file\n"
    )
    assert not list(tmp_path.iterdir())


def test_batch_larger_than_the_train_split_is_refused(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    train_data_dir: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    args = [
        "--set",
        "data.dataset_type=pcam",
        "--set",
        f"data.data_path={train_data_dir}",
    ]
    assert ml_train_main([*args, "--set", "data.batch_size=513"]) == 2
    assert capsys.readouterr().err == (
        "ml-train: error: data.batch_size: a batch of 513 samples is larger than the "
        "train split (512 samples); use at most 512\n"
    )
    assert not list(tmp_path.iterdir())


def test_missing_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert ml_train_main(["--config", "absent.yaml"]) == 2
    assert capsys.readouterr().err == (
        "ml-train: error: absent.yaml: config file not found\n"
    )
    assert not list(tmp_path.iterdir())


def test_data_directory_without_pcam_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path)
    code = ml_train_main(
        ["--set", "data.dataset_type=pcam", "--set", "data.data_path=empty"]
    )
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert "empty" in lines[0]
    assert [path.name for path in tmp_path.iterdir()] == ["empty"]


@pytest.mark.parametrize(
    "args",
    [
        ["--resume", "nowhere"],
        ["--resume", ".", "--set", "training.epochs=2"],
    ],
    ids=["missing run directory", "resume with overrides"],
)
def test_bad_resume(
    args: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert ml_train_main(args) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert "--resume" in lines[0] or "nowhere" in lines[0]
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_console_script_reports_bad_config_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("training:\n  epochs: 0\n")
    result = run_installed("ml-train", ["--config", "bad.yaml"], tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "ml-train: error: bad.yaml: training.epochs: must be at least 1, got 0"
    ]
    assert result.stdout == ""
    assert [path.name for path in tmp_path.iterdir()] == ["bad.yaml"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unavailable_device_is_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert ml_train_main(["--device", "cuda"]) == 2
    assert capsys.readouterr().err == (
        "ml-train: error: device cuda: CUDA is not available here\n"
    )
    assert not list(tmp_path.iterdir())

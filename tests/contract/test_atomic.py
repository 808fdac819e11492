"""The workspace's one atomic-write implementation: all or nothing, readable by others."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from ml_core.contract import (
    atomic_write,
    write_bytes_atomic,
    write_json_atomic,
    write_text_atomic,
)


def test_write_replaces_whole_file_and_creates_parents(tmp_path: Path) -> None:
    target = tmp_path / "new" / "dir" / "file.txt"
    write_text_atomic(target, "first")
    write_text_atomic(target, "second")
    assert target.read_text() == "second"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["file.txt"]


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "checkpoint.bin"
    write_bytes_atomic(target, b"old")

    def half_then_crash(handle) -> None:
        handle.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(target, half_then_crash)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.bin"]


def test_json_files_are_indented_objects_ending_in_a_newline(tmp_path: Path) -> None:
    target = tmp_path / "status.json"
    write_json_atomic(target, {"state": "COMPLETED", "epochs": [1, 2]})
    text = target.read_text()
    assert text.startswith('{\n  "state": "COMPLETED"')
    assert text.endswith("}\n")
    assert json.loads(text) == {"state": "COMPLETED", "epochs": [1, 2]}

"""Every console script: ``--help`` works, and a usage error is one line with exit 2."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPTS = ["ml-data", "ml-train", "ml-eval", "ml-viz", "ml-slurm"]
BIN = Path(sys.executable).parent


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_help_and_one_line_usage_error(script: str) -> None:
    helped = _run(script, "--help")
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith(f"usage: {script}")

    refused = _run(script, "--no-such-flag")
    assert refused.returncode == 2
    assert refused.stdout == ""
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert lines[0].startswith(f"{script}")
    assert "error" in lines[0]
    assert "Traceback" not in refused.stderr


PROBE = """
import importlib, sys
module, _, function = sys.argv[1].partition(":")
main = getattr(importlib.import_module(module), function)
try:
    main(sys.argv[2:])
except SystemExit:
    pass
print("torch" in sys.modules)
"""


def _entry_point(script: str) -> str:
    (entry,) = importlib.metadata.entry_points(group="console_scripts", name=script)
    return entry.value


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize(
    "args", [["--help"], ["--no-such-flag"]], ids=["help", "usage"]
)
def test_help_and_usage_errors_import_no_torch(script: str, args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, _entry_point(script), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_answers_within_a_second_and_a_half(script: str) -> None:
    started = time.perf_counter()
    assert _run(script, "--help").returncode == 0
    # Torch alone takes 2-5 s to import here; the parsers import only the contract.
    assert time.perf_counter() - started < 1.5

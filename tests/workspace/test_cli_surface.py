"""Every console script: ``--help`` works, and a usage error is one line with exit 2."""

from __future__ import annotations

import subprocess
import sys
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

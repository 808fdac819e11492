"""scripts/gpu_check.sh parses, and the bench command line it runs is valid here."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from benchmarks.bench import get_args_parser

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gpu_check.sh"


def test_script_is_valid_bash() -> None:
    result = subprocess.run(
        ["bash", "-n", str(SCRIPT)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_bench_flags_of_the_script_parse() -> None:
    text = SCRIPT.read_text()
    launcher = "uv run --no-sync "
    start = text.index(launcher + "python -m benchmarks.bench") + len(launcher)
    command = text[start:].split('"$@"')[0]
    words = shlex.split(command.replace("\\\n", " "))
    assert words[:3] == ["python", "-m", "benchmarks.bench"]
    # Shell words with variables: stand-ins for what the script fills in.
    words = [w.replace("$results", "/tmp").replace("${gpus:-0}", "2") for w in words]
    args = get_args_parser().parse_args(words[3:])
    assert (args.device, args.full_size, args.ranks) == ("cuda", True, 2)

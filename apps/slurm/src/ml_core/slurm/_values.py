"""ml-slurm's two errors, the checks and the shell quoting of every value that reaches a
job script, and how it runs the tools it talks to."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Mapping
from pathlib import Path


class SlurmInputError(ValueError):
    """A name, preset, override or sweep file is wrong; the message names it."""


class SubmissionError(RuntimeError):
    """sbatch or scontrol refused or failed; the message carries Slurm's own words."""


# Not only dots: "." and ".." are directories, not names.
NAME_PATTERN = re.compile(r"(?!\.+\Z)[A-Za-z0-9._-]+")


def check_name(value: str, what: str) -> str:
    """A job, experiment or sweep name."""
    rule = "only letters, digits, '.', '_' and '-', not only dots"
    return check_pattern(value, NAME_PATTERN, what, rule)


def check_pattern(
    value: str, pattern: re.Pattern[str], what: str, expected: str | None = None
) -> str:
    """``value`` if ``pattern`` matches all of it. ``#SBATCH`` lines are parsed by sbatch
    itself, where quoting would not help: what goes there must match a strict pattern."""
    if isinstance(value, str) and pattern.fullmatch(value):
        return value
    if expected is None:
        raise SlurmInputError(f"{what} {value!r} is not allowed in a job script")
    raise SlurmInputError(f"{what} {value!r}: expected {expected}")


def check_count(value: object, what: str, minimum: int, maximum: int) -> int:
    """An integer in ``[minimum, maximum]`` (booleans are not counts)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise SlurmInputError(f"{what}: expected an integer, got {value!r}")
    if not minimum <= value <= maximum:
        raise SlurmInputError(f"{what}: {value} is outside [{minimum}, {maximum}]")
    return value


def quote(value: str | Path) -> str:
    """One shell word, safe whatever ``value`` holds."""
    return shlex.quote(str(value))


def run_tool(
    argv: list[str], timeout_s: float, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a tool, its output captured; a tool that is missing, cannot start or does
    not answer in time reads as a failed run (exit 1) saying so on stderr."""
    try:
        return subprocess.run(
            argv,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout_s,
            env=None if env is None else {**os.environ, **env},
        )
    except subprocess.TimeoutExpired:
        problem = f"{argv[0]}: no answer within {timeout_s:.0f} s"
    except OSError as error:
        problem = f"cannot run {argv[0]}: {error}"
    return subprocess.CompletedProcess(argv, 1, "", problem)


def tool_error(answer: subprocess.CompletedProcess[str], tool: str) -> str:
    """The tool's own last line on stderr, without its ``<tool>: error:`` prefix."""
    lines = [line.strip() for line in answer.stderr.splitlines() if line.strip()]
    if not lines:
        return f"{tool} exited with {answer.returncode}"
    return lines[-1].removeprefix(f"{tool}: error: ")

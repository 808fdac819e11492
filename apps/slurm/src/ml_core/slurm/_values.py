"""ml-slurm's two errors, the checks of every value that reaches a job script, and the
quoting used there.

Values written into ``#SBATCH`` lines are matched against a strict pattern (sbatch
parses those lines itself, so quoting would not help); values that become shell words
are quoted with :func:`shlex.quote`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from pathlib import Path


class SlurmInputError(ValueError):
    """A name, preset, override or sweep file is wrong; the message names it."""


class SubmissionError(RuntimeError):
    """sbatch or scontrol refused or failed; the message carries Slurm's own words."""


NAME_PATTERN = re.compile(r"[A-Za-z0-9._-]+")
SLURM_WORD_PATTERN = re.compile(r"[A-Za-z0-9._+-]+")
CONSTRAINT_PATTERN = re.compile(r"[A-Za-z0-9._&|+-]+")
MODULE_PATTERN = re.compile(r"[A-Za-z0-9._/+-]+")
TIME_PATTERN = re.compile(r"(\d+-)?\d{1,3}(:\d{2}){0,2}")
MEMORY_PATTERN = re.compile(r"\d+[KMGT]?")
# A path inside an #SBATCH line: no whitespace, quotes, '%' (a Slurm pattern) or '#'.
SBATCH_PATH_PATTERN = re.compile(r"[A-Za-z0-9._/+@,:=~-]+")
MAX_SIGNAL_LEAD_S = 65535


def check_name(value: str, what: str) -> str:
    """A job, experiment or sweep name: ``[A-Za-z0-9._-]+`` and not only dots."""
    valid = isinstance(value, str) and NAME_PATTERN.fullmatch(value)
    if not valid or set(value) == {"."}:
        raise SlurmInputError(
            f"{what} {value!r}: use only letters, digits, '.', '_' and '-'"
        )
    return value


def check_pattern(value: str, pattern: re.Pattern[str], what: str) -> str:
    """``value`` if it matches ``pattern`` entirely, else a SlurmInputError naming it."""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise SlurmInputError(f"{what} {value!r} is not allowed in a job script")
    return value


def check_time(value: str, what: str) -> str:
    """A Slurm time limit such as ``08:00:00``, ``1-00:00:00`` or ``30``."""
    if not isinstance(value, str) or not TIME_PATTERN.fullmatch(value):
        raise SlurmInputError(
            f"{what} {value!r}: expected HH:MM:SS, D-HH:MM:SS or minutes"
        )
    return value


def check_memory(value: str, what: str) -> str:
    """A Slurm memory size such as ``16G`` or ``4000M``."""
    if not isinstance(value, str) or not MEMORY_PATTERN.fullmatch(value):
        raise SlurmInputError(f"{what} {value!r}: expected a size like 16G or 4000M")
    return value


def check_count(value: object, what: str, minimum: int, maximum: int) -> int:
    """An integer in ``[minimum, maximum]`` (booleans are not counts)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise SlurmInputError(f"{what}: expected an integer, got {value!r}")
    if not minimum <= value <= maximum:
        raise SlurmInputError(f"{what}: {value} is outside [{minimum}, {maximum}]")
    return value


def check_sbatch_path(path: Path, what: str) -> Path:
    """An absolute path that can stand unquoted in an ``#SBATCH`` line."""
    if not SBATCH_PATH_PATTERN.fullmatch(str(path)):
        raise SlurmInputError(
            f"{what} {str(path)!r}: Slurm log paths may not contain spaces, quotes, "
            "'%' or '#'; choose a save_dir without them"
        )
    return path


def quote(value: str | Path) -> str:
    """One shell word, safe whatever ``value`` holds."""
    return shlex.quote(str(value))


def quote_words(values: Iterable[str | Path]) -> str:
    """Several shell words, each quoted, separated by spaces."""
    return " ".join(quote(value) for value in values)

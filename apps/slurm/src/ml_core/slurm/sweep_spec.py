"""Sweep files: a base config, fixed overrides and a grid, expanded into tasks.

A sweep file (YAML)::

    name: lr_seed                      # names the sweep directory and the job
    config: ../configs/course.yaml     # base config, relative to this file
    set: [training.epochs=3]           # optional: overrides for every task
    grid:                              # every combination is one array task
      seed: [0, 1, 2]
      training.learning_rate: [0.001, 0.0003]
    parallel: 4                        # optional: at most this many tasks at once
    preset: gpu_a100                   # optional: resources (see presets.toml)
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ml_core.slurm.errors import SlurmInputError
from ml_core.slurm.shell_values import check_name

SWEEP_KEYS = {"name", "config", "set", "grid", "parallel", "preset"}
# Grid keys that only repeat a run; the other keys form the grid point (the group).
REPLICATE_KEYS = {"seed"}


@dataclass(frozen=True)
class SweepTask:
    """One grid point and seed: array index, overrides for ml-train, group label."""

    index: int
    overrides: tuple[str, ...]
    group: str


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep file."""

    source: Path
    name: str
    config: Path
    overrides: tuple[str, ...]
    grid: dict[str, list[Any]]
    parallel: int | None
    preset: str | None

    def tasks(self) -> list[SweepTask]:
        """Every combination of the grid, in file order (the last key varies fastest)."""
        keys = list(self.grid)
        tasks = []
        for index, values in enumerate(itertools.product(*self.grid.values())):
            overrides = tuple(
                format_override(key, value)
                for key, value in zip(keys, values, strict=True)
            )
            group = ",".join(
                f"{key.rsplit('.', 1)[-1]}={_label(value)}"
                for key, value in zip(keys, values, strict=True)
                if key not in REPLICATE_KEYS
            )
            tasks.append(SweepTask(index, overrides, group or "all"))
        return tasks


def format_override(key: str, value: Any) -> str:
    """``key=value`` for ``ml-train --set``; JSON is valid YAML, so types survive."""
    return f"{key}={json.dumps(value)}"


def load_sweep(path: Path) -> SweepSpec:
    """Read and validate a sweep file; SlurmInputError names the key that is wrong."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SlurmInputError(f"{path}: sweep file not found") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise SlurmInputError(f"{path}: cannot read sweep file ({error})") from None
    if not isinstance(raw, dict):
        raise SlurmInputError(f"{path}: the sweep file must be a mapping of keys")
    unknown = set(raw) - SWEEP_KEYS
    if unknown:
        raise SlurmInputError(f"{path}: unknown keys {sorted(unknown)}")
    for key in ("name", "config", "grid"):
        if key not in raw:
            raise SlurmInputError(f"{path}: {key}: required")
    name = _text(raw["name"], path, "name")
    check_name(name, f"{path}: name")
    return SweepSpec(
        source=path,
        name=name,
        config=(path.parent / _text(raw["config"], path, "config")).resolve(),
        overrides=_overrides(raw.get("set", []), path),
        grid=_grid(raw["grid"], path),
        parallel=_parallel(raw.get("parallel"), path),
        preset=None
        if raw.get("preset") is None
        else _text(raw["preset"], path, "preset"),
    )


def _text(value: Any, path: Path, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SlurmInputError(f"{path}: {key}: expected text, got {value!r}")
    return value


def _overrides(value: Any, path: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(
        isinstance(item, str) and "=" in item for item in value
    ):
        raise SlurmInputError(f"{path}: set: expected a list of key.path=value")
    return tuple(value)


def _grid(value: Any, path: Path) -> dict[str, list[Any]]:
    if not isinstance(value, dict) or not value:
        raise SlurmInputError(f"{path}: grid: expected a mapping of key: [values]")
    for key, values in value.items():
        if not isinstance(key, str) or not all(key.split(".")):
            raise SlurmInputError(f"{path}: grid: {key!r} is not a key.path")
        if not isinstance(values, list) or not values:
            raise SlurmInputError(f"{path}: grid.{key}: expected a non-empty list")
        if len({json.dumps(item, sort_keys=True) for item in values}) != len(values):
            raise SlurmInputError(f"{path}: grid.{key}: values repeat")
    return {key: list(values) for key, values in value.items()}


def _parallel(value: Any, path: Path) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SlurmInputError(f"{path}: parallel: expected an integer >= 1")
    return value


def _label(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))

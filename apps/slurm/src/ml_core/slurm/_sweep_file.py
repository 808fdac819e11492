"""What to submit: a sweep file (base config, fixed overrides, a grid; format in the
README), or ``ml-slurm submit``'s flags, which are a sweep of one run."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml_core.contract import ConfigError, SectionReader, read_yaml_file
from ml_core.slurm._values import SlurmInputError, check_name

# Grid keys that only repeat a run; the other keys form the grid point (the group).
REPLICATE_KEYS = {"seed"}
# Slurm's MaxArraySize is at most 4000001: no array runs more tasks at once.
MAX_PARALLEL = 4_000_001


@dataclass(frozen=True)
class GridPoint:
    """One combination of grid values: its ``--set`` overrides and its group label."""

    overrides: tuple[str, ...]
    group: str


WHOLE_RUN = GridPoint((), "all")  # the one point of a single run: no grid overrides


@dataclass(frozen=True)
class SweepSpec:
    """What to submit. ``name`` None: ``ml-slurm submit``'s single run, a plain job
    named after its experiment_name; else a job array of every grid point."""

    name: str | None
    config: Path | None
    overrides: tuple[str, ...] = ()
    grid: dict[str, list[Any]] = field(default_factory=dict)
    parallel: int | None = None
    preset: str | None = None
    device: str | None = None
    source: Path | None = None

    @classmethod
    def single_run(
        cls, config: Path | None, overrides: tuple[str, ...], device: str | None
    ) -> SweepSpec:
        """``ml-slurm submit``'s flags: one run, its job directory beside it."""
        return cls(None, config.resolve() if config else None, overrides, device=device)

    @property
    def is_array(self) -> bool:
        return self.name is not None

    def points(self) -> list[GridPoint]:
        """Every combination of the grid, in file order (the last key varies fastest);
        one point without overrides for a single run."""
        points = []
        for values in itertools.product(*self.grid.values()):
            pairs = list(zip(self.grid, values, strict=True))
            group = ",".join(
                f"{key.rsplit('.', 1)[-1]}={_label(value)}"
                for key, value in pairs
                if key not in REPLICATE_KEYS
            )
            overrides = tuple(format_override(key, value) for key, value in pairs)
            points.append(GridPoint(overrides, group or "all"))
        return points


def format_override(key: str, value: Any) -> str:
    """``key=value`` for ``ml-train --set``; JSON is valid YAML, so types survive."""
    return f"{key}={json.dumps(value)}"


def load_sweep(path: Path) -> SweepSpec:
    """Read and validate a sweep file; SlurmInputError names the key that is wrong."""
    try:
        return _read_sweep(path)
    except ConfigError as error:
        raise SlurmInputError(str(error)) from None


def _read_sweep(path: Path) -> SweepSpec:
    raw = read_yaml_file(path, "sweep file")
    if not isinstance(raw, dict):
        raise SlurmInputError(f"{path}: the sweep file must be a mapping of keys")
    sweep = SectionReader(raw, "", lambda _key: str(path))
    for key in ("name", "config", "grid"):
        if key not in raw:
            sweep.fail(key, "required")
    name = check_name(sweep.text("name", None), f"{path}: name")
    config = (path.parent / sweep.text("config", None)).resolve()
    overrides = sweep.take("set", [])
    if not isinstance(overrides, list) or not all(
        isinstance(item, str) and "=" in item for item in overrides
    ):
        sweep.fail("set", "expected a list of key.path=value")
    grid = sweep.take("grid", None)
    if not isinstance(grid, dict) or not grid:
        sweep.fail("grid", "expected a mapping of key: [values]")
    for key, values in grid.items():
        if not isinstance(key, str) or not all(key.split(".")):
            sweep.fail("grid", f"{key!r} is not a key.path")
        if not isinstance(values, list) or not values:
            sweep.fail(f"grid.{key}", "expected a non-empty list")
        if len({json.dumps(item, sort_keys=True) for item in values}) != len(values):
            sweep.fail(f"grid.{key}", "values repeat")
    parallel = sweep.integer("parallel", None, 1, optional=True, maximum=MAX_PARALLEL)
    preset = sweep.text("preset", None, optional=True)
    sweep.finish()
    return SweepSpec(
        name=name,
        config=config,
        overrides=tuple(overrides),
        grid=grid,
        parallel=parallel,
        preset=preset,
        source=path.resolve(),
    )


def _label(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))

"""Resource presets: the built-in ``presets.toml``, whose ``[presets.NAME]`` tables the
user's own file of the same shape extends or changes (``extends = "other"``)."""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ml_core.slurm._values import (
    SlurmInputError,
    check_count,
    check_name,
    check_pattern,
)

PRESETS_ENV = "ML_CORE_SLURM_PRESETS"
BUILTIN_SOURCE = "built-in presets.toml"
SLURM_WORD_PATTERN = re.compile(r"[A-Za-z0-9._+-]+")
CONSTRAINT_PATTERN = re.compile(r"[A-Za-z0-9._&|+-]+")
MODULE_PATTERN = re.compile(r"[A-Za-z0-9._/+-]+")
TIME_PATTERN = re.compile(r"(\d+-)?\d{1,3}(:\d{2}){0,2}")
# Text fields: the pattern of what may stand in the #SBATCH line, and what to expect.
TEXT_FIELDS = {
    "partition": (SLURM_WORD_PATTERN, None),
    "account": (SLURM_WORD_PATTERN, None),
    "constraint": (CONSTRAINT_PATTERN, None),
    "staging_constraint": (CONSTRAINT_PATTERN, None),
    "mem": (re.compile(r"\d+[KMGT]?"), "a size like 16G or 4000M"),
    "time": (TIME_PATTERN, "HH:MM:SS, D-HH:MM:SS or minutes"),
}
COUNT_FIELDS = {
    "gpus": (0, 64),
    "cpus_per_task": (1, 1024),
    "nodes": (1, 1024),
    "ntasks_per_node": (1, 256),
    "gpus_per_node": (0, 64),
    "signal_lead_s": (1, 65535),
    "max_requeues": (0, 1000),
}


@dataclass(frozen=True)
class Preset:
    """Resources and environment of one kind of job; every field that ends up in a job
    script is checked when a preset is made."""

    name: str
    description: str = ""
    partition: str | None = None
    account: str | None = None
    gpus: int = 0
    cpus_per_task: int = 1
    nodes: int = 1
    ntasks_per_node: int = 1
    gpus_per_node: int = 0
    mem: str = "1G"
    time: str = "01:00:00"
    modules: tuple[str, ...] = ()
    constraint: str | None = None
    stage_data: bool = False
    staging_constraint: str | None = None
    signal_lead_s: int = 300
    max_requeues: int = 20

    def __post_init__(self) -> None:
        what = f"preset {self.name}"
        check_name(self.name, "preset name")
        for field, (pattern, expected) in TEXT_FIELDS.items():
            value = getattr(self, field)
            if value is not None:
                check_pattern(value, pattern, f"{what}: {field}", expected)
        for module in self.modules:
            check_pattern(module, MODULE_PATTERN, f"{what}: module")
        for field, (minimum, maximum) in COUNT_FIELDS.items():
            check_count(getattr(self, field), f"{what}: {field}", minimum, maximum)
        if not isinstance(self.stage_data, bool):
            raise SlurmInputError(f"{what}: stage_data must be true or false")
        if self.gpus and self.gpus_per_node:
            raise SlurmInputError(f"{what}: give gpus or gpus_per_node, not both")
        if self.stage_data and self.nodes > 1:
            raise SlurmInputError(
                f"{what}: stage_data copies to one node's scratch; it needs nodes = 1"
            )

    def with_overrides(self, **changes: Any) -> Preset:
        """A copy with the non-None ``changes`` applied (and checked)."""
        given = {key: value for key, value in changes.items() if value is not None}
        return dataclasses.replace(self, **given)

    @property
    def constraints(self) -> str | None:
        """The ``--constraint`` value, including the staging constraint when staging."""
        staging = self.staging_constraint if self.stage_data else None
        return "&".join(part for part in (self.constraint, staging) if part) or None

    @property
    def tasks(self) -> int:
        """Processes per job: more than one means ``srun`` starts a DDP run."""
        return self.nodes * self.ntasks_per_node


PRESET_FIELDS = {field.name for field in dataclasses.fields(Preset)} - {"name"}


def load_presets(user_file: Path | None = None) -> dict[str, Preset]:
    """Built-in presets merged with ``user_file``, else $ML_CORE_SLURM_PRESETS, else
    ~/.config/ml_core/slurm_presets.toml if it exists."""
    builtin = resources.files("ml_core.slurm").joinpath("presets.toml").read_text()
    tables = _preset_tables(tomllib.loads(builtin), BUILTIN_SOURCE)
    path = user_file if user_file is not None else _user_presets_path()
    if path is not None:
        try:
            loaded = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SlurmInputError(f"{path}: presets file not found") from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise SlurmInputError(f"{path}: cannot read presets ({error})") from None
        except RecursionError:  # tomllib parses nested arrays recursively
            raise SlurmInputError(f"{path}: values nested too deeply") from None
        for name, table in _preset_tables(loaded, str(path)).items():
            tables[name] = {**tables.get(name, {}), **table}
    source = BUILTIN_SOURCE if path is None else str(path)
    return {name: _build(name, tables, source) for name in tables}


def get_preset(name: str, user_file: Path | None = None) -> Preset:
    """The preset called ``name``; SlurmInputError listing the known ones otherwise."""
    presets = load_presets(user_file)
    if name not in presets:
        known = ", ".join(sorted(presets))
        raise SlurmInputError(f"preset {name!r} is unknown (known: {known})")
    return presets[name]


def _user_presets_path() -> Path | None:
    if os.environ.get(PRESETS_ENV):
        return Path(os.environ[PRESETS_ENV])
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    candidate = config_home / "ml_core" / "slurm_presets.toml"
    return candidate if candidate.is_file() else None


def _preset_tables(loaded: dict[str, Any], source: str) -> dict[str, dict[str, Any]]:
    tables = loaded.get("presets")
    if not isinstance(tables, dict) or set(loaded) - {"presets"}:
        raise SlurmInputError(f"{source}: expected only [presets.NAME] tables")
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise SlurmInputError(f"{source}: presets.{name} must be a table")
        unknown = set(table) - PRESET_FIELDS - {"extends"}
        if unknown:
            raise SlurmInputError(
                f"{source}: presets.{name} has unknown keys {sorted(unknown)}"
            )
    return tables


def _build(name: str, tables: dict[str, dict[str, Any]], source: str) -> Preset:
    chain = [name]
    while "extends" in tables[chain[-1]]:
        base = tables[chain[-1]]["extends"]
        if base not in tables or base in chain:
            raise SlurmInputError(f"{source}: presets.{chain[-1]} extends {base!r}")
        chain.append(base)
    merged: dict[str, Any] = {}
    for link in reversed(chain):  # the base first, each preset's own fields over it
        merged.update(tables[link])
    merged.pop("extends", None)
    modules = merged.pop("modules", [])
    if not isinstance(modules, list):
        raise SlurmInputError(f"{source}: presets.{name}.modules must be a list")
    return Preset(name=name, modules=tuple(modules), **merged)

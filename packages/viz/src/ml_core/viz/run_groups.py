"""Group run directories whose configs differ only in seed / experiment name.

Such runs are repetitions of one experiment (e.g. the seeds of a sweep point) and are
drawn as a mean ± std band; runs with different configs get a line each, labelled by the
config keys that tell them apart.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ml_core.viz.errors import VizInputError

CONFIG_FILE = "config.yaml"
# Keys that differ between repetitions of one experiment, at any nesting depth.
REPETITION_KEYS = frozenset({"seed", "experiment_name"})
MAX_LABEL_KEYS = 3


@dataclass(frozen=True)
class RunGroup:
    """Runs that repeat one config; ``label`` is what the legend shows."""

    run_dirs: tuple[Path, ...]
    label: str


def read_run_config(run_dir: Path) -> dict[str, Any] | None:
    """The run's ``config.yaml`` as a dict, or None if the run has none."""
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        return None
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise VizInputError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(config, dict):
        raise VizInputError(f"{path}: not a YAML mapping")
    return config


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``, without the repetition keys."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if key in REPETITION_KEYS:
            continue
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat


def group_runs(run_dirs: Sequence[Path]) -> list[RunGroup]:
    """Runs grouped by config (without seed / experiment name), in input order.

    A run without ``config.yaml`` cannot be shown to repeat another, so it stands alone.
    """
    keyed: dict[str, list[Path]] = {}
    flat_configs: dict[str, dict[str, Any]] = {}
    for run_dir in run_dirs:
        config = read_run_config(run_dir)
        if config is None:
            key = f"run:{run_dir}"
            flat_configs[key] = {}
        else:
            flat = flatten(config)
            key = json.dumps(flat, sort_keys=True, default=str)
            flat_configs[key] = flat
        keyed.setdefault(key, []).append(run_dir)
    differing = _differing_keys(list(flat_configs.values()))
    return [
        RunGroup(tuple(dirs), _label(dirs, flat_configs[key], differing))
        for key, dirs in keyed.items()
    ]


def _differing_keys(configs: list[dict[str, Any]]) -> list[str]:
    if len(configs) < 2 or not all(configs):
        return []
    keys = sorted(set().union(*configs))
    return [key for key in keys if len({repr(c.get(key)) for c in configs}) > 1]


def _label(dirs: list[Path], flat: dict[str, Any], differing: list[str]) -> str:
    if differing:
        shown = differing[:MAX_LABEL_KEYS]
        name = ", ".join(f"{key.rsplit('.', 1)[-1]}={flat.get(key)}" for key in shown)
        if len(differing) > MAX_LABEL_KEYS:
            name += ", …"
    else:
        name = dirs[0].name
        if len(dirs) > 1:
            name += f" +{len(dirs) - 1}"
    return name

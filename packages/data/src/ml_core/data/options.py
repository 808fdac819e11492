"""The ``config["data"]`` options, validated at the edge with messages naming the key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml_core.data.errors import DataConfigError

# Keys of config["data"] that belong to the trainer; data ignores them.
TRAINER_KEYS = frozenset({"dataset_type", "input_shape"})

_BOOLEAN_DEFAULTS = {
    "in_memory": False,
    "filter_data": False,
    "balance": True,
    "pin_memory": False,
    "uint8_batches": False,
    "device_resident": False,
}


@dataclass(frozen=True)
class DataOptions:
    """Validated data options (see the README's "Data" section for each key)."""

    data_path: Path
    batch_size: int
    num_workers: int = 0
    in_memory: bool = False
    filter_data: bool = False
    balance: bool = True
    pin_memory: bool = False
    uint8_batches: bool = False
    device_resident: bool = False
    seed: int = 0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DataOptions:
        """Build from the course config dict (``config["data"]``, ``config["seed"]``)."""
        data = config.get("data")
        if not isinstance(data, Mapping):
            raise DataConfigError("data: missing section (expected a mapping)")
        known = {"data_path", "batch_size", "num_workers", *_BOOLEAN_DEFAULTS}
        unknown = sorted(set(data) - known - TRAINER_KEYS)
        if unknown:
            raise DataConfigError(
                f"data.{unknown[0]}: unknown option (known: {', '.join(sorted(known))})"
            )
        seed = config.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise DataConfigError(f"seed: must be a non-negative integer, got {seed!r}")
        return cls(
            data_path=_path(data),
            batch_size=_integer(data, "batch_size", minimum=1, default=None),
            num_workers=_integer(data, "num_workers", minimum=0, default=0),
            seed=seed,
            **{
                key: _boolean(data, key, default)
                for key, default in _BOOLEAN_DEFAULTS.items()
            },
        )


def _path(data: Mapping[str, Any]) -> Path:
    value = data.get("data_path")
    if not isinstance(value, str | Path) or not str(value):
        raise DataConfigError(
            f"data.data_path: expected a directory path, got {value!r}"
        )
    return Path(value).expanduser()


def _integer(
    data: Mapping[str, Any], key: str, *, minimum: int, default: int | None
) -> int:
    if key not in data and default is not None:
        return default
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DataConfigError(
            f"data.{key}: expected an integer >= {minimum}, got {value!r}"
        )
    return value


def _boolean(data: Mapping[str, Any], key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise DataConfigError(f"data.{key}: expected true or false, got {value!r}")
    return value

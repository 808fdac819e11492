"""What may change in a run's config between a checkpoint and its resume: the user's
knobs (epochs, learning rate, logging, ...), logged and recorded in ``env.json``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ml_core.contract import ConfigError, dotted_keys

# Changing these breaks the checkpoint's shapes or the exactness of the resume.
FIXED_KEYS = (
    "experiment_name",
    "seed",
    "data.dataset_type",
    "data.batch_size",
    "data.filter_data",
    "data.balance",
    "data.normalize",
    "data.split_location",
    "model.",
    "training.optimizer",
    "training.accumulate_grad_batches",
    "augment.",
)


def config_changes(
    saved: Mapping[str, Any], current: Mapping[str, Any]
) -> dict[str, tuple[Any, Any]]:
    """Every dotted key whose value differs: ``{key: (saved value, current value)}``;
    not ``training.device``, which names this machine's device, not the run's."""
    old, new = dotted_keys(saved), dotted_keys(current)
    return {
        key: (old.get(key), new.get(key))
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key) and key != "training.device"
    }


def refuse_fixed_changes(changes: Mapping[str, tuple[Any, Any]], source: Path) -> None:
    """ConfigError for the first change of a key in :data:`FIXED_KEYS`."""
    for key, (old, new) in changes.items():
        if any(
            key.startswith(fixed) if fixed.endswith(".") else key == fixed
            for fixed in FIXED_KEYS
        ):
            raise ConfigError(
                f"{source}: {key}: the checkpoint was trained with {old!r}, the config "
                f"now says {new!r}; that cannot resume exactly (start a new run)"
            )

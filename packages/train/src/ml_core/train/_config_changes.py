"""What may change in a run's config between a checkpoint and its resume: the user's
knobs (epochs, learning rate, logging, ...), logged and recorded in ``env.json``."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from ml_core.contract import ConfigError, dotted_keys

# Changing these (a key, or every key of a section) breaks the checkpoint's shapes or
# the exactness of the resume.
FIXED_KEYS = (
    "experiment_name",
    "seed",
    "data.dataset_type",
    "data.batch_size",
    "data.filter_data",
    "data.balance",
    "data.normalize",
    "data.split_location",
    "model",
    "training.optimizer",
    "training.accumulate_grad_batches",
    "augment",
)


def config_changes(
    saved: Mapping[str, Any],
    current: Mapping[str, Any],
    source: Path,
    remedy: str,
    refused: Collection[str] | None = None,
) -> dict[str, tuple[Any, Any]]:
    """Every dotted key whose value differs: ``{key: (saved value, current value)}``,
    but not ``training.device`` (this machine's, not the run's). ConfigError, naming
    ``source`` and ending in ``remedy``, for a change under ``refused`` (None: any)."""
    old, new = dotted_keys(saved), dotted_keys(current)
    changes = {
        key: (old.get(key), new.get(key))
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key) and key != "training.device"
    }
    for key, (before, after) in changes.items():
        if refused is None or any(
            key == name or key.startswith(f"{name}.") for name in refused
        ):
            raise ConfigError(
                f"{source}: {key}: the checkpoint was trained with {before!r}, the "
                f"config now says {after!r}; {remedy}"
            )
    return changes

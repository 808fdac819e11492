"""Start a model from a state dict on disk (``model.weights``) with a fresh head, so a
1,000-class ImageNet file (or an earlier run's checkpoint) starts a 2-class PCAM model."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ml_core.models.errors import ModelConfigError

# Keys named in a message: enough to recognise the file, not a page of them.
SHOWN_KEYS = 3


def classifier_head(model: nn.Module) -> str:
    """The name of ``model``'s last linear layer (``fc``, ``head.3``, ...)."""
    linears = [
        name for name, module in model.named_modules() if isinstance(module, nn.Linear)
    ]
    if not linears:
        raise ModelConfigError("model.weights: the model has no linear classifier head")
    return linears[-1]


def load_weights(model: nn.Module, path: Path) -> None:
    """Load ``path`` (``torch.load(weights_only=True)``) into ``model`` but its head;
    a file that does not fit raises :class:`ModelConfigError` naming the keys."""
    state = _read_state_dict(path)
    head = classifier_head(model) + "."
    own = model.state_dict()
    body = {key: value for key, value in state.items() if not key.startswith(head)}
    missing = sorted(key for key in own if not key.startswith(head) and key not in body)
    unexpected = sorted(key for key in body if key not in own)
    mismatched = sorted(
        key for key in body if key in own and body[key].shape != own[key].shape
    )
    problems = [
        f"{what} keys {_shown(keys)}"
        for what, keys in (
            ("missing", missing),
            ("unexpected", unexpected),
            ("shape-mismatched", mismatched),
        )
        if keys
    ]
    if problems:
        raise ModelConfigError(
            f"{path}: model.weights does not fit this model: {'; '.join(problems)}"
        )
    model.load_state_dict({**own, **body})


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise ModelConfigError(f"{path}: model.weights: file not found")
    try:
        loaded: Any = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as error:
        first = (str(error).strip().splitlines() or [""])[0]
        raise ModelConfigError(
            f"{path}: model.weights: cannot load ({first})"
        ) from None
    # An ml_core checkpoint holds its weights under "model".
    if isinstance(loaded, dict) and isinstance(loaded.get("model"), dict):
        loaded = loaded["model"]
    if not isinstance(loaded, dict) or not all(
        isinstance(value, torch.Tensor) for value in loaded.values()
    ):
        raise ModelConfigError(f"{path}: model.weights: not a state dict of tensors")
    return loaded


def _shown(keys: list[str]) -> str:
    more = f" and {len(keys) - SHOWN_KEYS} more" if len(keys) > SHOWN_KEYS else ""
    return ", ".join(keys[:SHOWN_KEYS]) + more

"""Seeding, saving and restoring every random number generator the training touches
(python, numpy's legacy global one, torch's CPU and CUDA ones) for exact resume."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed python, numpy, torch and (when present) every CUDA device with ``seed``."""
    random.seed(seed)
    # The legacy global generator is the one user code and libraries draw from.
    np.random.seed(seed % 2**32)  # noqa: NPY002
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def epoch_seed(seed: int, epoch: int, rank: int) -> int:
    """The seed at the start of ``epoch``; other ranks' differ from rank 0's (the
    single-process one) so their dropout masks are independent."""
    return (seed * 1_000_003 + epoch + rank * 2**40) % 2**63


def capture_rng_state() -> dict[str, Any]:
    """Every generator's state as tensors and primitives (``weights_only``-loadable)."""
    version, internal, gauss = random.getstate()
    _, key, pos, has_gauss, cached_gaussian = np.random.get_state()  # noqa: NPY002
    return {
        "python": {"version": version, "state": list(internal), "gauss": gauss},
        "numpy": {
            "key": torch.from_numpy(key.astype(np.int64)),
            "pos": pos,
            "has_gauss": has_gauss,
            "cached_gaussian": cached_gaussian,
        },
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def restore_rng_state(state: dict[str, Any]) -> None:
    """Put every generator back where :func:`capture_rng_state` found it."""
    python = state["python"]
    random.setstate((python["version"], tuple(python["state"]), python["gauss"]))
    numpy_state = state["numpy"]
    np.random.set_state(  # noqa: NPY002
        (
            "MT19937",
            numpy_state["key"].numpy().astype(np.uint32),
            numpy_state["pos"],
            numpy_state["has_gauss"],
            numpy_state["cached_gaussian"],
        )
    )
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])

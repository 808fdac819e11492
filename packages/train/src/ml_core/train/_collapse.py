"""Collapse detection on a whole validation pass: a collapsed model often keeps a
good-looking *train* average for the epoch in which it died."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import torch
from torch import nn

# A working classifier's positive-class probabilities spread over [0, 1] (std ~0.3-0.5
# on balanced PCAM); a dead network's vary in the 3rd decimal or less.
CONSTANT_PROBABILITY_STD = 1e-3
NEAR_CONSTANT_PROBABILITY_STD = 0.05
CHANCE_AUROC_MARGIN = 0.05


class DeadUnitCounter:
    """Which units of each ReLU layer were ever positive during a pass. A module
    applied at several places counts once per width (ResNet blocks reuse theirs)."""

    def __init__(self) -> None:
        self.ever_active: dict[tuple[nn.Module, int], torch.Tensor] = {}

    def record(self, module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        # A unit is a feature of (B, F) or a channel of (B, C, H, W) outputs.
        active = output.detach() > 0
        if active.dim() > 2:
            active = active.flatten(2).any(dim=2)
        active = active.any(dim=0)
        key = (module, active.numel())
        previous = self.ever_active.get(key)
        self.ever_active[key] = active if previous is None else previous | active

    def dead_fraction(self) -> float:
        """The largest fraction of never-active units over the layers (0 if none)."""
        fractions = [
            1.0 - active.float().mean().item() for active in self.ever_active.values()
        ]
        return max(fractions, default=0.0)


@contextmanager
def count_dead_units(model: nn.Module) -> Iterator[DeadUnitCounter]:
    """Watch every ``nn.ReLU`` of ``model`` while the block runs."""
    counter = DeadUnitCounter()
    handles = [
        module.register_forward_hook(counter.record)
        for module in model.modules()
        if isinstance(module, nn.ReLU)
    ]
    try:
        yield counter
    finally:
        for handle in handles:
            handle.remove()


def collapse_reason(metrics: Mapping[str, float]) -> str | None:
    """Why validation ``metrics`` show a collapsed model, in a few words, or None."""
    if not math.isfinite(metrics["loss"]):
        return f"validation loss is {metrics['loss']}"
    if metrics["dead_units"] >= 1.0:
        return "every unit of a hidden layer is dead (ReLU outputs 0 for all samples)"
    if metrics["prob_std"] < CONSTANT_PROBABILITY_STD:
        return f"constant predictions (probability std {metrics['prob_std']:.1e})"
    one_class = metrics["positive_rate"] in (0.0, 1.0)
    near_constant = metrics["prob_std"] < NEAR_CONSTANT_PROBABILITY_STD
    # A miscalibrated model can put every sample on one side of 0.5 and still rank
    # them well; only with chance-level ranking is it a dead model.
    if abs(metrics["auroc"] - 0.5) < CHANCE_AUROC_MARGIN and (
        one_class or near_constant
    ):
        return (
            f"predictions carry no signal (AUROC {metrics['auroc']:.3f}, "
            f"probability std {metrics['prob_std']:.1e}, "
            f"{metrics['positive_rate']:.0%} predicted positive)"
        )
    return None

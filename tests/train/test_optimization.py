"""Optimizer and schedule choices from the ``training:`` config."""

from __future__ import annotations

import pytest
import torch

from ml_core.train import build_config
from ml_core.train._config import OPTIMIZER_BYTES_PER_PARAMETER
from ml_core.train._optimization import build_optimizer, scheduled_lr


def _training(**options: object) -> object:
    raw = {"training": options}
    return build_config(raw, source="x.yaml", default_experiment_name="run").training


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("adam", torch.optim.Adam),
        ("adamw", torch.optim.AdamW),
        ("sgd", torch.optim.SGD),
    ],
)
def test_optimizer_choice(name: str, kind: type) -> None:
    model = torch.nn.Linear(3, 2)
    optimizer = build_optimizer(
        model, _training(optimizer=name, learning_rate=0.01, weight_decay=0.1)
    )
    assert type(optimizer) is kind
    group = optimizer.param_groups[0]
    assert (group["lr"], group["weight_decay"]) == (0.01, 0.1)
    if name == "sgd":
        assert group["momentum"] == 0.9


@pytest.mark.parametrize("name", sorted(OPTIMIZER_BYTES_PER_PARAMETER))
def test_memory_estimate_matches_the_optimizers_state(name: str) -> None:
    """The table the trainer refuses oversized models by is what the optimizer holds:
    float32 weights and gradients (8 bytes) plus its per-parameter state after a step."""
    model = torch.nn.Linear(3, 2)
    optimizer = build_optimizer(model, _training(optimizer=name))
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    state_bytes = sum(
        value.numel() * value.element_size()
        for state in optimizer.state.values()
        for key, value in state.items()
        if key != "step"  # Adam's step counter: one scalar, not per parameter
    )
    parameters = sum(p.numel() for p in model.parameters())
    assert 8 + state_bytes // parameters == OPTIMIZER_BYTES_PER_PARAMETER[name]
    assert state_bytes % parameters == 0


def _epoch_lrs(training: object, epochs: int, steps_per_epoch: int = 10) -> list:
    return [
        scheduled_lr(training, epoch, (epoch - 1) * steps_per_epoch)
        for epoch in range(1, epochs + 1)
    ]


def test_schedules_set_each_epochs_rate() -> None:
    assert _epoch_lrs(_training(learning_rate=1.0, epochs=3), 3) == [1.0, 1.0, 1.0]
    step = _training(
        learning_rate=1.0, lr_schedule="step", lr_step_size=2, lr_gamma=0.5, epochs=4
    )
    assert _epoch_lrs(step, 4) == [1.0, 1.0, 0.5, 0.5]  # powers of 2: exact
    cosine = _training(learning_rate=1.0, lr_schedule="cosine", epochs=4)
    # (1 + cos(pi * e / 4)) / 2, double precision: equal to 1e-12.
    assert _epoch_lrs(cosine, 4) == pytest.approx(
        [1.0, 0.8535533905932737, 0.5, 0.14644660940672624], abs=1e-12
    )


def test_warmup_ramps_linearly_then_hands_over_to_the_schedule() -> None:
    training = _training(learning_rate=0.5, warmup_steps=4, epochs=2)
    rates = [scheduled_lr(training, 1, steps_done) for steps_done in range(6)]
    # 0.5 * k / 4: every value is a dyadic fraction, so exact in binary.
    assert rates == [0.125, 0.25, 0.375, 0.5, 0.5, 0.5]

"""Optimizer and schedule choices from the ``training:`` config."""

from __future__ import annotations

import pytest
import torch

from ml_core.train import build_config
from ml_core.train.optimization import build_optimizer, build_scheduler


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


def _lrs(training: object, epochs: int) -> list[float]:
    optimizer = build_optimizer(torch.nn.Linear(3, 2), training)
    scheduler = build_scheduler(optimizer, training)
    lrs = []
    for _ in range(epochs):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()  # no gradients: changes nothing, but comes first as in training
        if scheduler is not None:
            scheduler.step()
    return lrs


def test_schedules_step_per_epoch() -> None:
    assert _lrs(_training(learning_rate=1.0, epochs=3), 3) == [1.0, 1.0, 1.0]
    step = _training(
        learning_rate=1.0, lr_schedule="step", lr_step_size=2, lr_gamma=0.5, epochs=4
    )
    assert _lrs(step, 4) == pytest.approx([1.0, 1.0, 0.5, 0.5])
    cosine = _training(learning_rate=1.0, lr_schedule="cosine", epochs=4)
    assert _lrs(cosine, 4) == pytest.approx([1.0, 0.853553, 0.5, 0.146447], abs=1e-6)

"""Gradient accumulation: k batches per optimizer step give the mean over all of them."""

from __future__ import annotations

import torch
from torch import nn

from ml_core.models import MLP
from ml_core.train._config import TrainingConfig
from ml_core.train._loop import train_one_epoch
from ml_core.train._metrics import EpochAccumulator
from ml_core.train._progress import ProgressReporter
from ml_core.train._stop_signals import StopFlag


def _one_step(batches: list[tuple[torch.Tensor, torch.Tensor]], accumulate: int):
    torch.manual_seed(3)
    model = MLP([3, 8, 8], [4], dropout_rate=0.0).double()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    steps = train_one_epoch(
        model,
        nn.CrossEntropyLoss(),
        optimizer,
        batches,
        device=torch.device("cpu"),
        first_step=0,
        steps_per_epoch=1,
        accumulator=EpochAccumulator(),
        progress=ProgressReporter(
            epochs=1, steps_per_epoch=1, log_every_seconds=1e9, use_bar=False
        ),
        stop=StopFlag(),
        training=TrainingConfig(
            grad_clip_norm=None, accumulate_grad_batches=accumulate
        ),
    )
    assert steps == 1
    return model.state_dict()


def test_accumulated_unequal_batches_equal_one_batch_of_all_samples() -> None:
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(10, 3, 8, 8, generator=generator, dtype=torch.float64)
    labels = torch.randint(0, 2, (10,), generator=generator)
    whole = _one_step([(images, labels)], accumulate=1)
    # 6 + 4 samples: each batch's mean loss must be weighted by its share (0.6, 0.4).
    parts = _one_step([(images[:6], labels[:6]), (images[6:], labels[6:])], 2)
    for name, tensor in whole.items():
        # float64 with 192 inputs per unit: reduction-order rounding is ~1e-15 relative;
        # a wrong weighting (e.g. plain sum or plain mean of means) is off by >1e-2.
        torch.testing.assert_close(parts[name], tensor, rtol=1e-12, atol=1e-14)

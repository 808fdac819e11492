"""What the benchmark does with each batch: make it model-ready on the device, and
optionally take one training step of the course's baseline MLP.

The MLP is built here from torch layers (ml_core.data may not depend on ml_core.models)
with the course baseline's shape: 27,648 -> 64 -> 32 -> 2, ReLU, dropout 0.2, Adam.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from ml_core.data.layout import IMAGE_SHAPE

HIDDEN_UNITS = (64, 32)
DROPOUT = 0.2
LEARNING_RATE = 1e-3


def baseline_mlp() -> nn.Sequential:
    """The course's baseline MLP on flattened (3, 96, 96) patches."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = int(torch.tensor(IMAGE_SHAPE).prod())
    for units in HIDDEN_UNITS:
        layers += [nn.Linear(width, units), nn.ReLU(), nn.Dropout(DROPOUT)]
        width = units
    layers.append(nn.Linear(width, 2))
    return nn.Sequential(*layers)


def model_ready(
    images: torch.Tensor, labels: torch.Tensor, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """The batch on ``device`` as float32 [0, 1] images and long labels (what the
    trainer's ``to_device`` does); uint8 batches are converted there."""
    images = images.to(device, non_blocking=True)
    if images.dtype == torch.uint8:
        images = images.float().div_(255)
    labels = labels.to(device, non_blocking=True)
    if images.dtype != torch.float32 or labels.dtype != torch.long:
        raise TypeError(f"bench: unexpected batch {images.dtype}/{labels.dtype}")
    return images, labels


class TrainingStep:
    """One forward/backward/Adam step per batch; bf16 autocast on CUDA.

    The loss stays on the device (summed) so no step waits for the GPU; call
    :meth:`mean_loss` once at the end.
    """

    def __init__(self, device: torch.device) -> None:
        torch.manual_seed(0)
        self.device = device
        self.model = baseline_mlp().to(device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LEARNING_RATE)
        self.criterion = nn.CrossEntropyLoss()
        self.loss_sum = torch.zeros((), device=device)
        self.steps = 0

    def _autocast(self) -> contextlib.AbstractContextManager[object]:
        if self.device.type == "cuda":
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def __call__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        self.model.train()
        with self._autocast():
            logits = self.model(images)
        loss = self.criterion(logits.float(), labels)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.loss_sum += loss.detach()
        self.steps += 1

    def mean_loss(self) -> float:
        """Mean training loss over every step so far (a sanity check: finite)."""
        return float(self.loss_sum) / max(self.steps, 1)

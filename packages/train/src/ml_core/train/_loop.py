"""The two passes: one over the train batches, and evaluation (no files, no epochs)."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ml_core.train._config import TrainingConfig
from ml_core.train._metrics import EpochAccumulator
from ml_core.train._progress import ProgressReporter
from ml_core.train._stop_signals import StopFlag
from ml_core.train._symmetries import tta_probabilities

Augmentation = Callable[[torch.Tensor], torch.Tensor]
# The course's loop: no clipping; otherwise the ml-train defaults.
PLAIN_LOOP = TrainingConfig(grad_clip_norm=None)


class InputNormalization:
    """Per-channel ``(x - mean) / std`` of [0, 1] pixels with the train split's
    statistics: uncentred channels collapsed the MLP on full-size PCAM (README)."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        self.mean = tuple(float(value) for value in mean)
        self.std = tuple(float(value) for value in std)
        self._tensors: dict[torch.device, tuple[torch.Tensor, torch.Tensor]] = {}

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": list(self.mean), "std": list(self.std)}

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        if images.device not in self._tensors:
            shape = (1, len(self.mean), 1, 1)
            self._tensors[images.device] = (
                torch.tensor(self.mean, device=images.device).view(shape),
                torch.tensor(self.std, device=images.device).view(shape),
            )
        mean, std = self._tensors[images.device]
        return images.sub(mean).div_(std)


def to_device(
    images: torch.Tensor,
    labels: torch.Tensor,
    device: torch.device,
    *,
    normalization: InputNormalization | None = None,
    augmentation: Augmentation | None = None,
    channels_last: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Move a batch to ``device``: uint8 becomes float32 in [0, 1] there, then
    ``augmentation`` and ``normalization`` apply, then ``channels_last`` layout."""
    images = images.to(device, non_blocking=True)
    if images.dtype == torch.uint8:
        images = images.float().div_(255)
    if augmentation is not None:
        images = augmentation(images)
    if normalization is not None:
        images = normalization(images)
    if channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    return images, labels.to(device, non_blocking=True)


def autocast(
    device: torch.device, *, bf16: bool
) -> contextlib.AbstractContextManager[object]:
    """bf16 autocast on CUDA when enabled; full precision everywhere else."""
    if bf16 and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def train_one_epoch(
    model: nn.Module,
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    *,
    device: torch.device,
    first_step: int,
    steps_per_epoch: int,
    accumulator: EpochAccumulator,
    progress: ProgressReporter,
    stop: StopFlag,
    training: TrainingConfig = PLAIN_LOOP,
    normalization: InputNormalization | None = None,
    channels_last: bool = False,
    last_step: int | None = None,
    learning_rate: Callable[[int], float] | None = None,
    augmentation: Callable[[int, int], Augmentation] | None = None,
    after_step: Callable[[int], None] | None = None,
) -> int:
    """Train on ``batches`` (which start at ``first_step``); return the steps done.

    ``training`` gives the clipping, bf16, batches per step and steps between syncs.
    Each batch's loss is weighted by its share of the step's samples, so the gradient
    is the mean over all of them. Returns after ``last_step`` (default: the epoch's
    end), or, on a step boundary, when ``stop`` is set; only at a sync (where a
    non-finite loss marks ``stop`` as diverged) does it wait for the device.
    ``learning_rate(step)`` is the rate of the step that ends ``step`` (0-based),
    ``augmentation(step, batch)`` the transform of its ``batch``-th batch.
    """
    model.train()
    step = first_step
    batches = iter(batches)
    while group := list(itertools.islice(batches, training.accumulate_grad_batches)):
        samples = sum(labels.shape[0] for _, labels in group)
        optimizer.zero_grad(set_to_none=True)
        for position, (raw_images, raw_labels) in enumerate(group):
            images, labels = to_device(
                raw_images,
                raw_labels,
                device,
                normalization=normalization,
                augmentation=None
                if augmentation is None
                else augmentation(step, position),
                channels_last=channels_last,
            )
            # Gradients are all-reduced once per step, with the last batch's backward.
            skip_sync = position < len(group) - 1 and isinstance(
                model, DistributedDataParallel
            )
            with model.no_sync() if skip_sync else contextlib.nullcontext():
                with autocast(device, bf16=training.bf16):
                    logits = model(images)
                loss = criterion(logits.float(), labels)
                (loss * (labels.shape[0] / samples)).backward()
            accumulator.update(logits, labels, loss)
        if training.grad_clip_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), training.grad_clip_norm)
        if learning_rate is not None:
            rate = learning_rate(step)
            for param_group in optimizer.param_groups:
                param_group["lr"] = rate
        optimizer.step()

        step += 1
        if after_step is not None:
            after_step(step)
        progress.step(step, loss.detach(), samples)
        at_sync = step in (steps_per_epoch, last_step) or (
            step % training.sync_every_steps == 0
        )
        if at_sync:
            bad = accumulator.first_nonfinite_loss()
            if bad is not None:
                stop.diverge(f"by step {step}: the training loss is {bad}")
        if (stop.poll(sync=at_sync) and step < steps_per_epoch) or step == last_step:
            break
    return step


@torch.no_grad()
def evaluate(
    model: nn.Module,
    criterion: nn.Module,
    loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    *,
    device: torch.device,
    bf16: bool = True,
    normalization: InputNormalization | None = None,
    channels_last: bool = False,
    tta: bool = False,
    stop: StopFlag | None = None,
) -> EpochAccumulator:
    """Loss, probabilities and labels of the model over ``loader`` (``tta``: of the mean
    over the eight symmetric views); a set ``stop`` ends the pass early."""
    model.eval()
    accumulator = EpochAccumulator()
    for raw_images, raw_labels in loader:
        if stop is not None and stop.requested:
            break
        images, labels = to_device(
            raw_images,
            raw_labels,
            device,
            normalization=normalization,
            channels_last=channels_last,
        )
        with autocast(device, bf16=bf16):
            if tta:
                # log-probabilities: their softmax is the averaged probability again.
                probs = tta_probabilities(model, images).clamp(1e-7, 1 - 1e-7)
                logits = torch.stack([torch.log1p(-probs), torch.log(probs)], dim=1)
            else:
                logits = model(images)
        accumulator.update(logits, labels, criterion(logits.float(), labels))
    return accumulator

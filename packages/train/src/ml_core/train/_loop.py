"""The training loop's two halves: one pass over the train batches, and evaluation.

Plain functions; :mod:`ml_core.train._fit` owns the epochs, checkpoints and records."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ml_core.train._metrics import EpochAccumulator
from ml_core.train._progress import ProgressReporter
from ml_core.train._stop_signals import StopFlag
from ml_core.train._symmetries import tta_probabilities


class InputNormalization:
    """Per-channel standardisation of [0, 1] pixels: ``(x - mean) / std``.

    The statistics are the train split's (measured once, stored in checkpoints). Centring
    each channel matters for wide first layers: PCAM's pink background puts every pixel
    of a raw or globally centred patch on the same side of zero, so every first-layer
    weight of a unit gets a gradient of one sign and Adam moves all 27,648 together by
    about the learning rate each; on full-size PCAM that collapsed the MLP mid-epoch.
    """

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
    augmentation: Callable[[torch.Tensor], torch.Tensor] | None = None,
    channels_last: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Move a batch to ``device``; uint8 images become float32 in [0, 1] there, then
    ``augmentation`` and ``normalization`` (if any) apply, in that order.
    ``channels_last``: the memory layout conv nets run fastest on."""
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
    last_step: int | None = None,
    accumulator: EpochAccumulator,
    progress: ProgressReporter,
    stop: StopFlag,
    grad_clip_norm: float | None = None,
    bf16: bool = True,
    normalization: InputNormalization | None = None,
    accumulate_grad_batches: int = 1,
    learning_rate: Callable[[int], float] | None = None,
    augmentation: Callable[[int, int], Callable[[torch.Tensor], torch.Tensor]]
    | None = None,
    channels_last: bool = False,
    sync_every_steps: int = 16,
    after_step: Callable[[int], None] | None = None,
) -> int:
    """Train on ``batches`` (which start at ``first_step``); return the steps done.

    A step is one optimizer update over ``accumulate_grad_batches`` consecutive batches
    (the last step of an epoch may take fewer); each batch's loss is weighted by its share
    of the step's samples, so the gradient is the mean over all of them. Returns after
    ``last_step`` (default: the epoch's end), or early, on a step boundary, when
    ``stop`` is set. Nothing waits for the device except every ``sync_every_steps``
    steps, where a non-finite loss marks ``stop`` as diverged and the stop decision is
    taken (shared by all ranks). ``learning_rate(step)`` sets the rate of the optimizer
    step that ends ``step`` (0-based); ``augmentation(step, batch)`` gives the transform
    of the step's ``batch``-th batch; ``after_step(step)`` runs after each step.
    """
    model.train()
    step = first_step
    batches = iter(batches)
    while group := list(itertools.islice(batches, accumulate_grad_batches)):
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
                with autocast(device, bf16=bf16):
                    logits = model(images)
                loss = criterion(logits.float(), labels)
                (loss * (labels.shape[0] / samples)).backward()
            accumulator.update(logits, labels, loss)
        if grad_clip_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip_norm)
        if learning_rate is not None:
            rate = learning_rate(step)
            for param_group in optimizer.param_groups:
                param_group["lr"] = rate
        optimizer.step()

        step += 1
        if after_step is not None:
            after_step(step)
        progress.step(step, loss.detach(), samples)
        at_sync = step % sync_every_steps == 0 or step in (steps_per_epoch, last_step)
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
    """Loss, probabilities and labels of the model over every batch of ``loader``.

    ``tta``: each probability is the mean over the eight symmetric views, and the
    loss is the cross-entropy of those means. A set ``stop`` ends the pass early.
    """
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

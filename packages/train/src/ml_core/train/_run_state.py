"""What a run is made of and where it stands, and its checkpoint records.

``last.pt`` holds everything needed to continue at the exact step (weights, optimizer,
position, history, every rank's generators and running metrics); ``best.pt`` the
weights of the best validation pass so far. Also what ml-eval needs to read them back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from ml_core.contract import RunPaths
from ml_core.train._checkpoint import CheckpointError, save_checkpoint
from ml_core.train._config import ExperimentConfig
from ml_core.train._distributed import Launch, all_gather_objects
from ml_core.train._loop import InputNormalization
from ml_core.train._metrics import EpochAccumulator
from ml_core.train._seeding import capture_rng_state

# What ``restore`` reads: a best.pt or a foreign file lacks some of these.
RESUME_KEYS = (
    "model",
    "optimizer",
    "epoch",
    "step_in_epoch",
    "steps_per_epoch",
    "seconds_in_epoch",
    "world_size",
    "rank_states",
    "metrics",
    "validations",
    "best",
    "config",
)


def uses_convolutions(model: nn.Module) -> bool:
    """Whether ``model`` has 2-d convolutions (and so wants channels-last inputs)."""
    return any(isinstance(module, nn.Conv2d) for module in model.modules())


def saved_normalization(checkpoint: dict[str, Any]) -> InputNormalization | None:
    """The input standardisation a checkpoint was trained with (None: raw [0, 1])."""
    record = checkpoint.get("input_normalization")
    return None if record is None else InputNormalization(record["mean"], record["std"])


@dataclass
class RunProgress:
    """Where the run stands: the epoch in progress, train steps done in it, history."""

    epoch: int = 1
    step: int = 0
    seconds_in_epoch: float = 0.0
    rows: list[dict[str, Any]] = field(default_factory=list)
    validations: list[dict[str, Any]] = field(default_factory=list)
    best_value: float | None = None
    best_epoch: int | None = None
    best_step: int | None = None
    best_collapsed: bool = False


@dataclass
class RunState:
    """Everything one run trains with, its position, and its checkpoints."""

    config: ExperimentConfig
    paths: RunPaths
    model: nn.Module
    optimizer: torch.optim.Optimizer
    train_loader: DataLoader
    val_loader: DataLoader
    device: torch.device
    normalization: InputNormalization | None = None
    criterion: nn.Module = field(default_factory=nn.CrossEntropyLoss)
    progress: RunProgress = field(default_factory=RunProgress)
    accumulator: EpochAccumulator = field(default_factory=EpochAccumulator)
    saved_rng: dict[str, Any] | None = None
    launch: Launch = field(default_factory=Launch)

    @property
    def finished(self) -> bool:
        return self.progress.epoch > self.config.training.epochs

    @property
    def steps_per_epoch(self) -> int:
        """Optimizer steps per epoch: train batches over ``accumulate_grad_batches``."""
        return math.ceil(
            len(self.train_loader) / self.config.training.accumulate_grad_batches
        )

    @property
    def channels_last(self) -> bool:
        """Conv nets run on channels-last tensors (measured faster on CPU and CUDA)."""
        return uses_convolutions(self.network)

    @property
    def network(self) -> nn.Module:
        """The model itself, without its DistributedDataParallel wrapper."""
        if isinstance(self.model, DistributedDataParallel):
            return self.model.module
        return self.model

    def consider_best(self, row: dict[str, Any]) -> None:
        """Save ``best.pt`` if validation ``row`` beats the best so far.

        A collapsed pass (non-empty ``warning``) only counts while every earlier one
        collapsed too, so a working model is never replaced by a dead one.
        """
        progress = self.progress
        collapsed = bool(row["warning"])
        value = row[self.config.training.best_metric]
        best = progress.best_value
        if collapsed and best is not None and not progress.best_collapsed:
            return
        better = (
            best is None
            or math.isnan(best)
            or (progress.best_collapsed and not collapsed)
            or (
                value < best
                if self.config.training.best_metric == "val_loss"
                else value > best
            )
        )
        if not better:
            return
        progress.best_value, progress.best_collapsed = value, collapsed
        progress.best_epoch, progress.best_step = row["epoch"], row["step"]
        if self.launch.is_main:
            save_checkpoint(
                self.paths.best_checkpoint,
                self._record(epoch=row["epoch"], step=row["step"], metrics=row),
            )

    def save_last(self, *, mid_epoch: bool) -> None:
        """Write ``last.pt``. A collective: every rank's generators (and, mid-epoch,
        running metrics) are gathered into ``rank_states`` (index = rank)."""
        progress = self.progress
        own_state = {
            "rng": capture_rng_state(),
            "train_accumulator": self.accumulator.state_dict() if mid_epoch else None,
        }
        rank_states = all_gather_objects(self.launch, own_state)
        if not self.launch.is_main:
            return
        save_checkpoint(
            self.paths.last_checkpoint,
            self._record(
                optimizer=self.optimizer.state_dict(),
                epoch=progress.epoch,
                step_in_epoch=progress.step,
                steps_per_epoch=self.steps_per_epoch,
                seconds_in_epoch=progress.seconds_in_epoch,
                world_size=self.launch.world_size,
                rank_states=rank_states,
                metrics=progress.rows,
                validations=progress.validations,
                best={
                    "metric": self.config.training.best_metric,
                    "value": progress.best_value,
                    "epoch": progress.best_epoch,
                    "step": progress.best_step,
                    "collapsed": progress.best_collapsed,
                },
            ),
        )

    def restore(self, checkpoint: dict[str, Any]) -> None:
        """Continue from a ``last.pt`` record; this rank's part of ``rank_states``."""
        world_size = checkpoint["world_size"]
        if world_size != self.launch.world_size:
            raise CheckpointError(
                f"{self.paths.last_checkpoint}: the run was checkpointed with "
                f"{world_size} processes, this launch has {self.launch.world_size}; "
                "exact resume needs the same number"
            )
        if checkpoint["steps_per_epoch"] != self.steps_per_epoch:
            raise CheckpointError(
                f"{self.paths.last_checkpoint}: the checkpoint has "
                f"{checkpoint['steps_per_epoch']} steps per epoch but the data gives "
                f"{self.steps_per_epoch}; the training data or batch size changed"
            )
        self.network.load_state_dict(checkpoint["model"])
        self.normalization = saved_normalization(checkpoint)
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        best = checkpoint["best"]
        self.progress = RunProgress(
            epoch=checkpoint["epoch"],
            step=checkpoint["step_in_epoch"],
            seconds_in_epoch=checkpoint["seconds_in_epoch"],
            rows=list(checkpoint["metrics"]),
            validations=list(checkpoint["validations"]),
            best_value=best["value"],
            best_epoch=best["epoch"],
            best_step=best["step"],
            best_collapsed=best["collapsed"],
        )
        own = checkpoint["rank_states"][self.launch.rank]
        if own["train_accumulator"] is not None:
            self.accumulator.load_state_dict(own["train_accumulator"])
        self.saved_rng = own["rng"] if self.progress.step > 0 else None

    def _record(self, **fields: Any) -> dict[str, Any]:
        """A checkpoint: the weights, the input standardisation, the config, ``fields``."""
        normalization = self.normalization
        return {
            "model": self.network.state_dict(),
            "input_normalization": None
            if normalization is None
            else normalization.to_dict(),
            "config": self.config.to_dict(),
            **fields,
        }

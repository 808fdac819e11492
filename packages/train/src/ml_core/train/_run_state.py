"""What a run is made of and where it stands; its checkpoints ``last.pt`` (everything
an exact resume needs) and ``best.pt`` (the best validation pass's weights)."""

from __future__ import annotations

import dataclasses
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

NO_BEST = {"value": None, "epoch": None, "step": None, "collapsed": False}


def uses_convolutions(model: nn.Module) -> bool:
    """Whether ``model`` has 2-d convolutions (and so wants channels-last inputs)."""
    return any(isinstance(module, nn.Conv2d) for module in model.modules())


def saved_normalization(checkpoint: dict[str, Any]) -> InputNormalization | None:
    """The input standardisation a checkpoint was trained with (None: raw [0, 1])."""
    record = checkpoint.get("input_normalization")
    return None if record is None else InputNormalization(record["mean"], record["std"])


@dataclass
class RunProgress:
    """Where the run stands, under its ``last.pt`` keys: the epoch in progress, train
    steps done in it, the rows so far, and the best validation pass."""

    epoch: int = 1
    step_in_epoch: int = 0
    seconds_in_epoch: float = 0.0
    metrics: list[dict[str, Any]] = field(default_factory=list)
    validations: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, Any] = field(default_factory=lambda: dict(NO_BEST))


# What ``restore`` reads: a best.pt or a foreign file lacks some of these.
RESUME_KEYS = (
    "model",
    "optimizer",
    "steps_per_epoch",
    "world_size",
    "rank_states",
    "config",
    *(key.name for key in dataclasses.fields(RunProgress)),
)


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
        """Save ``best.pt`` if validation ``row`` beats the best so far. A collapsed
        pass (a ``warning``) only counts while every earlier one collapsed too."""
        best = self.progress.best
        collapsed = bool(row["warning"])
        value = row[self.config.training.best_metric]
        if collapsed and best["value"] is not None and not best["collapsed"]:
            return
        better = (
            best["value"] is None
            or math.isnan(best["value"])
            or (best["collapsed"] and not collapsed)
            or (
                value < best["value"]
                if self.config.training.best_metric == "val_loss"
                else value > best["value"]
            )
        )
        if not better:
            return
        best.update(
            value=value, epoch=row["epoch"], step=row["step"], collapsed=collapsed
        )
        if self.launch.is_main:
            save_checkpoint(
                self.paths.best_checkpoint,
                self._record(epoch=row["epoch"], step=row["step"], metrics=row),
            )

    def save_last(self, *, mid_epoch: bool) -> None:
        """Write ``last.pt``. A collective: every rank's generators (and, mid-epoch,
        running metrics) are gathered into ``rank_states`` (index = rank)."""
        own_state = {
            "rng": capture_rng_state(),
            "train_accumulator": self.accumulator.state_dict() if mid_epoch else None,
        }
        rank_states = all_gather_objects(self.launch, own_state)
        if not self.launch.is_main:
            return
        progress = dataclasses.asdict(self.progress)
        progress["best"]["metric"] = self.config.training.best_metric
        save_checkpoint(
            self.paths.last_checkpoint,
            self._record(
                optimizer=self.optimizer.state_dict(),
                steps_per_epoch=self.steps_per_epoch,
                world_size=self.launch.world_size,
                rank_states=rank_states,
                **progress,
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
        keys = dataclasses.fields(RunProgress)
        self.progress = RunProgress(**{key.name: checkpoint[key.name] for key in keys})
        own = checkpoint["rank_states"][self.launch.rank]
        if own["train_accumulator"] is not None:
            self.accumulator.load_state_dict(own["train_accumulator"])
        self.saved_rng = own["rng"] if self.progress.step_in_epoch > 0 else None

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

"""The course's ``Trainer(model, optimizer, config, device)`` over the real loop.

Works with the course's plain config dicts: ``train_epoch``, ``validate``,
``save_checkpoint`` and ``fit`` run :func:`~ml_core.train.loop.train_one_epoch` and
:func:`~ml_core.train.loop.evaluate`, log through :class:`ExperimentTracker` and write
``weights_only``-loadable checkpoints. (``ml-train`` adds exact resume on top.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sized
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from ml_core.train.checkpoint import save_checkpoint
from ml_core.train.epoch_metrics import EpochAccumulator
from ml_core.train.loop import evaluate, train_one_epoch
from ml_core.train.progress import ProgressReporter
from ml_core.train.stop_signals import StopFlag
from ml_core.train.tracking import ExperimentTracker


class Trainer:
    """Course API: train ``model`` with ``optimizer`` as ``config`` (a dict) says."""

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        config: Mapping[str, Any],
        device: str | torch.device,
    ) -> None:
        self.device = torch.device(device)
        self.model = model.to(self.device)
        self.optimizer = optimizer
        self.config = dict(config)
        self.training = dict(self.config.get("training") or {})
        self.criterion = nn.CrossEntropyLoss()
        self.history: list[dict[str, float]] = []
        self.train_metrics: dict[str, float] = {}
        self.val_metrics: dict[str, float] = {}

    @property
    def run_dir(self) -> Path:
        save_dir = self.training.get("save_dir", "experiments/results")
        return Path(save_dir) / str(self.config.get("experiment_name", "course_run"))

    def train_epoch(self, dataloader: DataLoader, epoch_idx: int) -> float:
        """One pass over ``dataloader``; returns the mean train loss (0-based epoch)."""
        sampler = getattr(dataloader, "batch_sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch_idx)
        accumulator = EpochAccumulator()
        steps = len(dataloader) if isinstance(dataloader, Sized) else 0
        reporter = ProgressReporter(
            epochs=int(self.training.get("epochs", epoch_idx + 1)),
            steps_per_epoch=steps,
            log_every_seconds=float(self.training.get("log_every_seconds", 10.0)),
        )
        reporter.start_epoch(epoch_idx + 1, 0)
        train_one_epoch(
            self.model,
            self.criterion,
            self.optimizer,
            dataloader,
            device=self.device,
            first_step=0,
            steps_per_epoch=steps,
            accumulator=accumulator,
            progress=reporter,
            stop=StopFlag(),
            grad_clip_norm=self.training.get("grad_clip_norm"),
        )
        reporter.end_epoch()
        self.train_metrics = accumulator.compute()
        return self.train_metrics["loss"]

    def validate(self, dataloader: DataLoader, epoch_idx: int) -> float:  # noqa: ARG002 (course signature)
        """Mean loss over ``dataloader``; accuracy, F1 and AUROC in ``val_metrics``."""
        self.val_metrics = evaluate(
            self.model, self.criterion, dataloader, device=self.device
        ).compute()
        return self.val_metrics["loss"]

    def save_checkpoint(self, epoch: int, val_loss: float) -> Path:
        """``<save_dir>/<experiment_name>/checkpoints/epoch_<epoch+1>.pt``."""
        path = self.run_dir / "checkpoints" / f"epoch_{epoch + 1}.pt"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_checkpoint(
            path,
            {
                "epoch": epoch + 1,
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "val_loss": val_loss,
                "config": self.config,
            },
        )
        return path

    def fit(self, train_loader: DataLoader, val_loader: DataLoader) -> list[dict]:
        """Train ``training.epochs`` epochs, tracking and checkpointing each one."""
        tracker = ExperimentTracker(
            str(self.config.get("experiment_name", "course_run")),
            self.config,
            base_dir=self.run_dir.parent,
        )
        try:
            for epoch in range(int(self.training.get("epochs", 1))):
                lr = self.optimizer.param_groups[0]["lr"]
                self.train_epoch(train_loader, epoch)
                val_loss = self.validate(val_loader, epoch)
                row = {f"train_{k}": v for k, v in self.train_metrics.items()}
                row.update({f"val_{k}": v for k, v in self.val_metrics.items()})
                row["lr"] = lr
                tracker.log_metrics(epoch + 1, row)
                self.history.append({"epoch": epoch + 1, **row})
                self.save_checkpoint(epoch, val_loss)
        finally:
            tracker.close()
        return self.history

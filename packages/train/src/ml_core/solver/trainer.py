"""The course's ``Trainer(model, optimizer, config, device)`` over ml_core's loop, with
the skeleton's shapes (README "Course API"); ``ml-train`` adds exact resume."""

from __future__ import annotations

from collections.abc import Mapping, Sized
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from ml_core.train._checkpoint import save_checkpoint
from ml_core.train._config import TrainingConfig
from ml_core.train._loop import evaluate, train_one_epoch
from ml_core.train._metrics import EpochAccumulator
from ml_core.train._progress import ProgressReporter
from ml_core.train._stop_signals import StopFlag
from ml_core.train._tracking import ExperimentTracker

__all__ = ["Trainer"]


class Trainer:
    """Course API: train ``model`` with ``optimizer`` as ``config`` (a dict) says, in a
    new run directory ``<training.save_dir>/<experiment_name>``."""

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
        self.tracker = ExperimentTracker(
            str(self.config.get("experiment_name", "course_run")),
            self.config,
            base_dir=self.training.get("save_dir", "experiments/results"),
        )
        self.best_val_loss = float("inf")
        self.history: list[dict[str, float]] = []
        self.train_metrics: dict[str, float] = {}
        self.val_metrics: dict[str, float] = {}

    def train_epoch(
        self, dataloader: DataLoader, epoch_idx: int
    ) -> tuple[float, float, float]:
        """One pass over ``dataloader`` (0-based epoch): ``(loss, accuracy, f1)``; AUROC
        and the rest are in ``train_metrics``."""
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
            training=TrainingConfig(grad_clip_norm=self.training.get("grad_clip_norm")),
        )
        reporter.end_epoch()
        self.train_metrics = accumulator.compute()
        return _course_triple(self.train_metrics)

    def validate(
        self,
        dataloader: DataLoader,
        epoch_idx: int,  # noqa: ARG002 (the course's signature)
    ) -> tuple[float, float, float]:
        """``(loss, accuracy, f1)`` over ``dataloader``; AUROC in ``val_metrics``."""
        self.val_metrics = evaluate(
            self.model, self.criterion, dataloader, device=self.device
        ).compute()
        return _course_triple(self.val_metrics)

    def save_checkpoint(self, epoch: int, val_loss: float) -> Path:
        """``<run_dir>/checkpoints/epoch_<epoch+1>.pt`` (``epoch`` is 0-based)."""
        path = self.tracker.run_dir / "checkpoints" / f"epoch_{epoch + 1}.pt"
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
        try:
            for epoch in range(int(self.training.get("epochs", 1))):
                lr = self.optimizer.param_groups[0]["lr"]
                self.train_epoch(train_loader, epoch)
                val_loss, _, _ = self.validate(val_loader, epoch)
                self.best_val_loss = min(self.best_val_loss, val_loss)
                row = {f"train_{k}": v for k, v in self.train_metrics.items()}
                row.update({f"val_{k}": v for k, v in self.val_metrics.items()})
                row["lr"] = lr
                self.tracker.log_metrics(epoch + 1, row)
                self.history.append({"epoch": epoch + 1, **row})
                self.save_checkpoint(epoch, val_loss)
        finally:
            self.tracker.close()
        return self.history


def _course_triple(metrics: Mapping[str, float]) -> tuple[float, float, float]:
    return metrics["loss"], metrics["acc"], metrics["f1"]

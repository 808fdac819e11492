"""Epoch loop with exact resume: train, evaluate, record, checkpoint, repeat.

Randomness is pinned to the position in the run. The batch order depends only on
(seed, epoch) through the resumable sampler; every epoch starts by reseeding the
generators from (seed, epoch); a checkpoint taken mid-epoch stores the generators'
states and the epoch's running metrics, restored after the batch iterator is made.
A resumed run therefore repeats an uninterrupted one step for step.

Data-parallel runs (:mod:`ml_core.train.distributed`): every rank runs this loop; the
train metrics are gathered from all ranks, the stop decision is shared, checkpoints
hold every rank's generators and running metrics, and rank 0 alone writes files.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter

from ml_core.data import resumable_sampler
from ml_core.train.checkpoint import CheckpointError, save_checkpoint
from ml_core.train.config import TrainConfig
from ml_core.train.distributed import Launch, all_gather_objects
from ml_core.train.epoch_metrics import EpochAccumulator
from ml_core.train.loop import evaluate, train_one_epoch
from ml_core.train.parameter_trace import ParameterTrace
from ml_core.train.progress import ProgressReporter
from ml_core.train.run_directory import RunPaths
from ml_core.train.seeding import (
    capture_rng_state,
    epoch_seed,
    restore_rng_state,
    seed_everything,
)
from ml_core.train.stop_signals import StopFlag
from ml_core.train.tracking import METRIC_COLUMNS, MetricsTable, log_scalars

logger = logging.getLogger(__name__)


@dataclass
class RunProgress:
    """Where the run stands: the epoch in progress, train steps done in it, history."""

    epoch: int = 1
    step: int = 0
    seconds_in_epoch: float = 0.0
    rows: list[dict[str, Any]] = field(default_factory=list)
    best_value: float | None = None
    best_epoch: int | None = None


@dataclass
class TrainingRun:
    """Everything one run trains with; :meth:`fit` runs the remaining epochs."""

    config: TrainConfig
    paths: RunPaths
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler | None
    train_loader: DataLoader
    val_loader: DataLoader
    device: torch.device
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
    def network(self) -> nn.Module:
        """The model itself, without its DistributedDataParallel wrapper."""
        if isinstance(self.model, DistributedDataParallel):
            return self.model.module
        return self.model

    def fit(self, stop: StopFlag) -> bool:
        """Train the remaining epochs; False if ``stop`` ended it early (checkpointed)."""
        training = self.config.training
        sampler = resumable_sampler(self.train_loader)
        steps_per_epoch = self.steps_per_epoch
        main = self.launch.is_main
        reporter = ProgressReporter(
            epochs=training.epochs,
            steps_per_epoch=steps_per_epoch,
            log_every_seconds=training.log_every_seconds,
            use_bar=None if main else False,
            processes=self.launch.world_size,
        )
        trace = ParameterTrace.from_environment(self.launch.rank)
        table = MetricsTable(self.paths.metrics, METRIC_COLUMNS, self.progress.rows)
        if table.rows and main:
            table.write()  # after a crash the CSV may be an epoch ahead of last.pt
        if self.finished:
            return True
        tensorboard = (
            SummaryWriter(log_dir=str(self.paths.tensorboard))
            if main
            else contextlib.nullcontext()
        )
        with tensorboard as writer:
            while not self.finished:
                epoch, first_step = self.progress.epoch, self.progress.step
                started = time.perf_counter()
                sampler.set_epoch(epoch)
                sampler.skip_batches(first_step * training.accumulate_grad_batches)
                batches = iter(self.train_loader)
                self._position_randomness(epoch, first_step)
                reporter.start_epoch(epoch, first_step)
                step = train_one_epoch(
                    self.model,
                    self.criterion,
                    self.optimizer,
                    batches,
                    device=self.device,
                    first_step=first_step,
                    steps_per_epoch=steps_per_epoch,
                    accumulator=self.accumulator,
                    progress=reporter,
                    stop=stop,
                    grad_clip_norm=training.grad_clip_norm,
                    bf16=training.bf16,
                    normalize=self.config.data.normalize,
                    accumulate_grad_batches=training.accumulate_grad_batches,
                    after_step=None
                    if trace is None
                    else functools.partial(trace.record, epoch, model=self.network),
                )
                reporter.end_epoch()
                del batches  # stops this epoch's loader workers now
                self.progress.seconds_in_epoch += time.perf_counter() - started
                if step < steps_per_epoch:
                    self.progress.step = step
                    self.save_last(mid_epoch=True)
                    logger.warning(
                        "stopped by %s at epoch %d step %d/%d; checkpoint %s",
                        stop.signal_name,
                        epoch,
                        step,
                        steps_per_epoch,
                        self.paths.last_checkpoint,
                    )
                    return False
                row = self._finish_epoch(epoch, time.perf_counter())
                if main:
                    table.append(row)
                    log_scalars(writer, epoch, row)
                self.save_last(mid_epoch=False)
                self._report_epoch(row)
                if not self.finished and stop.poll():
                    logger.warning(
                        "stopped by %s after epoch %d; checkpoint %s",
                        stop.signal_name,
                        epoch,
                        self.paths.last_checkpoint,
                    )
                    return False
        return True

    def _position_randomness(self, epoch: int, first_step: int) -> None:
        # After iter(loader): making the iterator draws from torch's generator.
        if first_step == 0:
            seed_everything(epoch_seed(self.config.seed, epoch, self.launch.rank))
            self.accumulator = EpochAccumulator()
        elif self.saved_rng is not None:
            restore_rng_state(self.saved_rng)
            self.saved_rng = None

    def _finish_epoch(self, epoch: int, train_done: float) -> dict[str, Any]:
        """Validate, step the schedule, keep ``best.pt`` up to date; the metrics row."""
        training = self.config.training
        ranks = all_gather_objects(self.launch, self.accumulator.state_dict())
        epoch_accumulator = EpochAccumulator.merged(ranks)
        train_metrics = epoch_accumulator.compute()
        samples = epoch_accumulator.count  # every rank's: the run's throughput
        train_seconds = self.progress.seconds_in_epoch
        # Every rank validates on the whole split (no collectives, identical rows).
        val_metrics = evaluate(
            self.network,
            self.criterion,
            self.val_loader,
            device=self.device,
            bf16=training.bf16,
            normalize=self.config.data.normalize,
        ).compute()
        lr = self.optimizer.param_groups[0]["lr"]
        if self.scheduler is not None:
            self.scheduler.step()
        row: dict[str, Any] = {"epoch": epoch}
        row.update({f"train_{name}": value for name, value in train_metrics.items()})
        row.update({f"val_{name}": value for name, value in val_metrics.items()})
        row["lr"] = lr
        row["epoch_seconds"] = train_seconds + time.perf_counter() - train_done
        row["samples_per_second"] = samples / train_seconds if train_seconds else 0.0
        self.progress.rows.append(row)
        if self._is_best(row[training.best_metric]):
            self.progress.best_value = row[training.best_metric]
            self.progress.best_epoch = epoch
            self.save_best(row)
        self.progress.epoch, self.progress.step = epoch + 1, 0
        self.progress.seconds_in_epoch = 0.0
        return row

    def _is_best(self, value: float) -> bool:
        best = self.progress.best_value
        if best is None or math.isnan(best):
            return True
        if self.config.training.best_metric == "val_loss":
            return value < best
        return value > best

    def _report_epoch(self, row: dict[str, Any]) -> None:
        logger.info(
            "epoch %d/%d: train loss %.4f acc %.4f | val loss %.4f acc %.4f "
            "auroc %.4f | %.1f s, %.0f samples/s",
            row["epoch"],
            self.config.training.epochs,
            row["train_loss"],
            row["train_acc"],
            row["val_loss"],
            row["val_acc"],
            row["val_auroc"],
            row["epoch_seconds"],
            row["samples_per_second"],
        )

    def save_last(self, *, mid_epoch: bool) -> None:
        """Write ``last.pt``: everything needed to continue at the current position.

        A collective in a distributed run: every rank's generators (and, mid-epoch,
        running metrics) are gathered into ``rank_states``; rank 0 writes the file.
        ``rng`` and ``train_accumulator`` are rank 0's (the single-process layout).
        """
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
            {
                "model": self.network.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": (
                    self.scheduler.state_dict() if self.scheduler is not None else None
                ),
                "epoch": progress.epoch,
                "step_in_epoch": progress.step,
                "steps_per_epoch": self.steps_per_epoch,
                "seconds_in_epoch": progress.seconds_in_epoch,
                "train_accumulator": own_state["train_accumulator"],
                "rng": own_state["rng"],
                "world_size": self.launch.world_size,
                "rank_states": rank_states,
                "metrics": progress.rows,
                "best": {
                    "metric": self.config.training.best_metric,
                    "value": progress.best_value,
                    "epoch": progress.best_epoch,
                },
                "config": self.config.to_dict(),
            },
        )

    def save_best(self, row: dict[str, Any]) -> None:
        """Write ``best.pt``: the weights of the best epoch and its metrics (rank 0)."""
        if not self.launch.is_main:
            return
        save_checkpoint(
            self.paths.best_checkpoint,
            {
                "model": self.network.state_dict(),
                "epoch": row["epoch"],
                "metrics": row,
                "config": self.config.to_dict(),
            },
        )

    def restore(self, checkpoint: dict[str, Any]) -> None:
        """Continue from a ``last.pt`` record (see :meth:`save_last`).

        Each rank takes its own generators and running metrics from ``rank_states``;
        the world size must be the one the checkpoint was written with.
        """
        world_size = checkpoint.get("world_size", 1)
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
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        if self.scheduler is not None and checkpoint["scheduler"] is not None:
            self.scheduler.load_state_dict(checkpoint["scheduler"])
        best = checkpoint["best"]
        self.progress = RunProgress(
            epoch=checkpoint["epoch"],
            step=checkpoint["step_in_epoch"],
            seconds_in_epoch=checkpoint["seconds_in_epoch"],
            rows=list(checkpoint["metrics"]),
            best_value=best["value"],
            best_epoch=best["epoch"],
        )
        own = checkpoint.get("rank_states", [checkpoint])[self.launch.rank]
        if own["train_accumulator"] is not None:
            self.accumulator.load_state_dict(own["train_accumulator"])
        self.saved_rng = own["rng"] if self.progress.step > 0 else None

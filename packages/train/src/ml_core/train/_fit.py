"""Epochs with exact resume (README "Resume"): train, validate, record, checkpoint. On
every rank; the train metrics and the stop decision are shared, rank 0 writes."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.utils.tensorboard import SummaryWriter

from ml_core.contract import METRIC_COLUMNS, VALIDATION_COLUMNS
from ml_core.data import resumable_sampler
from ml_core.train._checkpoint import payload_checksum
from ml_core.train._collapse import collapse_reason, count_dead_units
from ml_core.train._distributed import all_gather_objects
from ml_core.train._loop import evaluate, train_one_epoch
from ml_core.train._metrics import EpochAccumulator
from ml_core.train._optimization import scheduled_lr
from ml_core.train._progress import ProgressReporter
from ml_core.train._run_state import RunState
from ml_core.train._seeding import epoch_seed, restore_rng_state, seed_everything
from ml_core.train._stop_signals import StopFlag
from ml_core.train._symmetries import augment, batch_generator
from ml_core.train._tracking import log_scalars, write_metrics_csv

logger = logging.getLogger(__name__)
# A diagnostic (README "Multi-GPU"): each rank appends "epoch step sha256" per step.
PARAMETER_TRACE_VARIABLE = "ML_CORE_PARAMETER_TRACE"


class TrainingDivergedError(RuntimeError):
    """The training loss became NaN or infinite; the last good checkpoint is kept."""


class TrainingRun(RunState):
    """Everything one run trains with; :meth:`fit` runs the remaining epochs."""

    def fit(self, stop: StopFlag) -> bool:
        """Train the remaining epochs; False if ``stop`` ended it early (checkpointed)."""
        main = self.launch.is_main
        self._reporter = ProgressReporter(
            epochs=self.config.training.epochs,
            steps_per_epoch=self.steps_per_epoch,
            log_every_seconds=self.config.training.log_every_seconds,
            use_bar=None if main else False,
            processes=self.launch.world_size,
        )
        if self.progress.metrics:
            self._write_csvs()  # after a crash they may be ahead of last.pt
        if self.finished:
            return True
        writer = SummaryWriter(str(self.paths.tensorboard)) if main else None
        with writer if writer is not None else contextlib.nullcontext():
            self._writer = writer
            while not self.finished:
                if not self._fit_epoch(stop):
                    return False
        return True

    def _fit_epoch(self, stop: StopFlag) -> bool:
        """Train, validate and checkpoint the current epoch; False if stopped."""
        epoch, step = self.progress.epoch, self.progress.step_in_epoch
        training = self.config.training
        steps, every = self.steps_per_epoch, training.val_every_steps
        started = time.perf_counter()
        sampler = resumable_sampler(self.train_loader)
        sampler.set_epoch(epoch)
        sampler.skip_batches(step * training.accumulate_grad_batches)
        batches = iter(self.train_loader)
        # After iter(loader): making the iterator draws from torch's generator.
        if step == 0:
            seed_everything(epoch_seed(self.config.seed, epoch, self.launch.rank))
            self.accumulator = EpochAccumulator()
        elif self.saved_rng is not None:
            restore_rng_state(self.saved_rng)
            self.saved_rng = None
        self._reporter.start_epoch(epoch, step)
        trace = os.environ.get(PARAMETER_TRACE_VARIABLE)
        train = functools.partial(
            train_one_epoch,
            self.model,
            self.criterion,
            self.optimizer,
            batches,
            device=self.device,
            steps_per_epoch=steps,
            accumulator=self.accumulator,
            progress=self._reporter,
            stop=stop,
            training=training,
            normalization=self.normalization,
            channels_last=self.channels_last,
            learning_rate=lambda step: scheduled_lr(
                training, epoch, (epoch - 1) * steps + step
            ),
            augmentation=functools.partial(self._augmentation, epoch)
            if self.config.augment.enabled
            else None,
            after_step=functools.partial(self._trace, Path(trace), epoch)
            if trace
            else None,
        )
        try:
            while step < steps:
                # Up to the next validation point (or the epoch's end).
                last = min((step // every + 1) * every, steps) if every else None
                step = train(first_step=step, last_step=last)
                if stop.divergence is not None:
                    raise TrainingDivergedError(
                        f"epoch {epoch} {stop.divergence}: the run diverged; "
                        f"{self.paths.last_checkpoint} (from before) is kept. Lower "
                        "training.learning_rate or set training.grad_clip_norm"
                    )
                if step < steps and every and step % every == 0:
                    self._validate(epoch, step)
                if stop.requested:
                    break
        finally:
            self._reporter.end_epoch()
        del batches  # stops this epoch's loader workers now
        self.progress.seconds_in_epoch += time.perf_counter() - started
        if step < steps:
            self.progress.step_in_epoch = step
            self.save_last(mid_epoch=True)
            logger.warning(
                "stopped by %s at epoch %d step %d/%d; checkpoint %s",
                stop.signal_name,
                epoch,
                step,
                steps,
                self.paths.last_checkpoint,
            )
            return False
        self._finish_epoch(epoch)
        if not self.finished and stop.poll():
            logger.warning(
                "stopped by %s after epoch %d; checkpoint %s",
                stop.signal_name,
                epoch,
                self.paths.last_checkpoint,
            )
            return False
        return True

    def _augmentation(
        self, epoch: int, step: int, batch: int
    ) -> Callable[[torch.Tensor], torch.Tensor]:
        generator = batch_generator(
            self.config.seed, epoch, step, batch, self.launch.rank, self.device
        )
        return functools.partial(
            augment, config=self.config.augment, generator=generator
        )

    def _validate(self, epoch: int, step: int) -> dict[str, Any]:
        """One validation pass at ``(epoch, step)``: recorded, checked for collapse,
        maybe best. Every rank validates the whole split (no collectives)."""
        devices = [self.device] if self.device.type == "cuda" else []
        with (
            torch.random.fork_rng(devices=devices),
            count_dead_units(self.network) as dead_units,
        ):
            metrics = evaluate(
                self.network,
                self.criterion,
                self.val_loader,
                device=self.device,
                bf16=self.config.training.bf16,
                normalization=self.normalization,
                channels_last=self.channels_last,
            ).compute()
        metrics["dead_units"] = dead_units.dead_fraction()
        warning = collapse_reason(metrics)
        row: dict[str, Any] = {
            "epoch": epoch,
            "step": step,
            **{f"val_{name}": value for name, value in metrics.items()},
            "warning": warning or "",
        }
        self.progress.validations.append(row)
        self._write_csvs()
        if step < self.steps_per_epoch and self._writer is not None:
            global_step = (epoch - 1) * self.steps_per_epoch + step
            log_scalars(self._writer, global_step, row, prefix="val_steps/")
        self.consider_best(row)
        if warning:
            logger.warning(
                "COLLAPSE at epoch %d step %d/%d: %s; best.pt holds epoch %s step %s",
                epoch,
                step,
                self.steps_per_epoch,
                warning,
                self.progress.best["epoch"],
                self.progress.best["step"],
            )
        return row

    def _write_csvs(self) -> None:
        if self.launch.is_main:
            progress, paths = self.progress, self.paths
            write_metrics_csv(paths.metrics, METRIC_COLUMNS, progress.metrics)
            write_metrics_csv(
                paths.validation, VALIDATION_COLUMNS, progress.validations
            )

    def _trace(self, directory: Path, epoch: int, step: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        checksum = payload_checksum(dict(self.network.named_parameters()))
        trace = directory / f"rank{self.launch.rank}.txt"
        with trace.open("a", encoding="utf-8") as handle:
            handle.write(f"{epoch} {step} {checksum}\n")

    def _finish_epoch(self, epoch: int) -> None:
        """Validate, record the epoch's row, checkpoint, report."""
        train_done = time.perf_counter()
        epoch_accumulator = EpochAccumulator()
        for state in all_gather_objects(self.launch, self.accumulator.state_dict()):
            epoch_accumulator.load_state_dict(state, append=True)
        train_metrics = epoch_accumulator.compute()
        train_seconds = self.progress.seconds_in_epoch
        validation = self._validate(epoch, self.steps_per_epoch)
        row: dict[str, Any] = {
            "epoch": epoch,
            **{f"train_{name}": value for name, value in train_metrics.items()},
            **{key: value for key, value in validation.items() if key != "step"},
            "lr": self.optimizer.param_groups[0]["lr"],
            "epoch_seconds": train_seconds + time.perf_counter() - train_done,
            # Every rank's samples: the run's throughput.
            "samples_per_second": epoch_accumulator.count / train_seconds
            if train_seconds
            else 0.0,
        }
        self.progress.metrics.append(row)
        self.progress.epoch, self.progress.step_in_epoch = epoch + 1, 0
        self.progress.seconds_in_epoch = 0.0
        self._write_csvs()
        if self._writer is not None:
            log_scalars(self._writer, epoch, row)
        self.save_last(mid_epoch=False)
        logger.info(
            "epoch %d/%d: train loss %.4f acc %.4f | val loss %.4f acc %.4f "
            "auroc %.4f | %.1f s, %.0f samples/s%s",
            epoch,
            self.config.training.epochs,
            row["train_loss"],
            row["train_acc"],
            row["val_loss"],
            row["val_acc"],
            row["val_auroc"],
            row["epoch_seconds"],
            row["samples_per_second"],
            f" | COLLAPSED: {row['warning']}" if row["warning"] else "",
        )

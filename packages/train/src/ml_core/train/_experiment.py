"""The main job on every rank: config, data, model, run directory, fit, report. Every
input problem is found before the run directory is created; rank 0 alone writes."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel

from ml_core.contract import ConfigError, RunPaths, write_json_atomic
from ml_core.data import has_split, make_loaders, split_channel_statistics
from ml_core.models import build_model, count_parameters
from ml_core.train._checkpoint import load_checkpoint
from ml_core.train._config import OPTIMIZER_BYTES_PER_PARAMETER, ExperimentConfig
from ml_core.train._device import available_memory, select_device, set_cpu_threads
from ml_core.train._distributed import (
    Launch,
    SharedStopFlag,
    all_gather_objects,
    barrier,
    detect_launch,
    process_device,
    process_group,
)
from ml_core.train._environment import record_resume, run_environment
from ml_core.train._evaluation import (
    evaluate_checkpoint,
    evaluation_report,
    write_predictions,
)
from ml_core.train._fit import TrainingRun
from ml_core.train._loop import InputNormalization
from ml_core.train._optimization import build_optimizer
from ml_core.train._request import (
    FIXED_KEYS,
    ResolvedRun,
    RunRequest,
    config_changes,
    resolve_run,
)
from ml_core.train._run_directory import publish_run_directory, stage_run_directory
from ml_core.train._run_state import RESUME_KEYS, uses_convolutions
from ml_core.train._seeding import seed_everything
from ml_core.train._stop_signals import StopFlag, catch_stop_signals
from ml_core.train._tracking import write_config_yaml

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainOutcome:
    """Where the run lives, whether it finished, and whether this rank reports."""

    run_dir: Path
    finished: bool
    reports: bool = True
    stopped_by: str | None = None


def train(request: RunRequest) -> TrainOutcome:
    """Run (or continue) one experiment as ``request`` describes (on every rank)."""
    launch = detect_launch()
    # Every rank checks the request before any rank can create the run directory:
    # joining the process group waits for all of them.
    resolved = resolve_run(request)
    device = process_device(launch, select_device(resolved.config.training.device))
    if not launch.is_main:
        logging.getLogger("ml_core").setLevel(logging.WARNING)  # rank 0 reports
    with process_group(launch, device):
        outcome = _train(resolved, launch, device)
        barrier(launch)  # the others wait while rank 0 tests and plots
    return outcome


def _train(resolved: ResolvedRun, launch: Launch, device: torch.device) -> TrainOutcome:
    # Rank 0's reading wins (a default experiment name holds a timestamp).
    resolved = all_gather_objects(launch, resolved)[0]
    config = resolved.config
    _refuse_unaffordable_model(config, device)
    data_dir = config.data.directory()
    train_loader, val_loader = make_loaders(
        config.data,
        seed=config.seed,
        device=device,
        rank=launch.rank,
        world_size=launch.world_size,
    )

    threads = set_cpu_threads(config.training.cpu_threads, config.data.num_workers)
    if config.training.deterministic and device.type == "cpu":
        torch.use_deterministic_algorithms(mode=True)
    seed_everything(config.seed)
    model = build_model(config.model_options(), config.data.input_shape).to(device)
    if uses_convolutions(model):
        model = model.to(memory_format=torch.channels_last)
    if config.training.compile:
        # In place: the state_dict keeps its plain keys, so checkpoints stay portable
        # between compiled and eager runs (and ml-eval).
        model.compile()
    optimizer = build_optimizer(model, config.training)
    if launch.distributed:
        model = DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    run = TrainingRun(
        config=config,
        # A resumed run takes its statistics from last.pt (restore below).
        normalization=(
            InputNormalization(*split_channel_statistics(data_dir))
            if config.data.normalize and resolved.resume_dir is None
            else None
        ),
        paths=RunPaths(resolved.resume_dir or config.run_dir),
        model=model,
        optimizer=optimizer,
        train_loader=train_loader,
        val_loader=val_loader,
        device=device,
        launch=launch,
    )
    if resolved.resume_dir is not None:
        checkpoint = load_checkpoint(run.paths.last_checkpoint, RESUME_KEYS)
        changes = config_changes(
            checkpoint["config"],
            config.to_dict(),
            run.paths.config,
            "that cannot resume exactly (start a new run)",
            refused=FIXED_KEYS,
        )
        run.restore(checkpoint)
        for key, (old, new) in changes.items():
            logger.warning("resuming with %s changed: %r -> %r", key, old, new)
        if launch.is_main:
            record_resume(run.paths, data_dir, launch, changes)
        logger.info(
            "resuming %s at epoch %d step %d",
            run.paths.root,
            run.progress.epoch,
            run.progress.step_in_epoch,
        )
    else:
        _create_run_directory(run, data_dir)
    logger.info(
        "run directory %s: %s (%d parameters) on %s (%d CPU threads, %d processes), "
        "data %s",
        run.paths.root,
        config.model.name,
        count_parameters(run.network),
        device,
        threads,
        launch.world_size,
        data_dir,
    )

    flag = SharedStopFlag(device) if launch.distributed else StopFlag()
    with catch_stop_signals(flag) as stop:
        finished = run.fit(stop)
        # Still catching: a stop while finishing leaves a complete, resumable run
        # (resuming it only redoes the test evaluation and the plot).
        if finished and launch.is_main:
            # A stop that came while finishing asks for a requeue even if all got done.
            finished = _finish(run, data_dir, stop) and not stop.requested
    return TrainOutcome(
        run.paths.root, finished, reports=launch.is_main, stopped_by=stop.signal_name
    )


def _refuse_unaffordable_model(config: ExperimentConfig, device: torch.device) -> None:
    """ConfigError, before anything is allocated, for a model too big for memory."""
    with torch.device("meta"):  # shapes only: no memory, whatever the size
        probe = build_model(
            config.model_options(weights=False), config.data.input_shape
        )
    parameters = count_parameters(probe)
    needed = parameters * OPTIMIZER_BYTES_PER_PARAMETER[config.training.optimizer]
    available = available_memory(device)
    if available is not None and needed > available:
        raise ConfigError(
            f"model ({config.model.name}): {parameters:,} parameters need "
            f"{needed / 1e9:,.1f} GB for weights, gradients and "
            f"{config.training.optimizer}'s state; {device} has "
            f"{available / 1e9:,.1f} GB available"
        )


def _create_run_directory(run: TrainingRun, data_dir: Path) -> None:
    """Stage config, env.json and the step-0 checkpoint, then publish the directory
    (rank 0 writes; the others take part in the checkpoint, which gathers states)."""
    if not run.launch.is_main:
        run.save_last(mid_epoch=False)
        barrier(run.launch)
        return
    final_root = run.paths.root
    run.paths = stage_run_directory(final_root)
    try:
        write_config_yaml(run.paths.config, run.config.to_dict())
        write_json_atomic(run.paths.environment, run_environment(data_dir, run.launch))
        run.save_last(mid_epoch=False)
    except BaseException:
        # A half-made run never appears, not even as a staging directory.
        shutil.rmtree(run.paths.root, ignore_errors=True)
        raise
    run.paths = publish_run_directory(run.paths, final_root)
    barrier(run.launch)


def _finish(run: TrainingRun, data_dir: Path, stop: StopFlag) -> bool:
    """Best checkpoint on the test split (when there is one), then the curves plot;
    False (nothing half-written) when ``stop`` is set before it is all done."""
    if has_split(data_dir, "test"):
        best = load_checkpoint(run.paths.best_checkpoint)
        tta = run.config.evaluation.tta
        accumulator = evaluate_checkpoint(
            run.network, best, run.config, "test", run.device, tta=tta, stop=stop
        )
        if not stop.requested:  # a stopped pass is incomplete: nothing is written
            report = evaluation_report("test", "best", accumulator, tta=tta)
            write_json_atomic(run.paths.test_metrics, report)
            write_predictions(run.paths.test_predictions, accumulator)
            logger.info(
                "test (best checkpoint, epoch %d step %d): acc %.4f f1 %.4f auroc %.4f",
                best["epoch"],
                best["step"],
                report["accuracy"],
                report["f1"],
                report["auroc"],
            )
    if stop.requested:
        logger.warning(
            "stopped by %s while finishing: training is complete; --auto-resume "
            "redoes the test evaluation and the plot",
            stop.signal_name,
        )
        return False
    # Imported here: matplotlib costs ~1.5 s at startup and is needed only at the end.
    from ml_core.viz import VizInputError, plot_curves

    try:
        logger.info("learning curves: %s", plot_curves([run.paths.root]))
    except VizInputError as error:
        logger.warning("no learning curves plot: %s", error)
    return True

"""What one ``ml-train`` invocation means: the validated config, the run directory it
resumes (``--resume``, or ``--auto-resume`` where ``last.pt`` exists), and which
config changes a resume accepts (logged and recorded in ``env.json``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ml_core.contract import (
    ConfigError,
    RunPaths,
    apply_overrides,
    dotted_keys,
    load_config,
)
from ml_core.train._config import ExperimentConfig, build_config, source_of
from ml_core.train._run_directory import check_save_dir, refuse_existing

# Changing these (a key, or every key of a section) breaks the checkpoint's shapes or
# the exactness of the resume.
FIXED_KEYS = (
    "experiment_name",
    "seed",
    "data.dataset_type",
    "data.batch_size",
    "data.filter_data",
    "data.balance",
    "data.normalize",
    "data.split_location",
    "model",
    "training.optimizer",
    "training.accumulate_grad_batches",
    "augment",
)


@dataclass(frozen=True)
class RunRequest:
    """The ``ml-train`` flags, parsed."""

    config_path: Path | None = None
    overrides: tuple[str, ...] = ()
    resume: Path | None = None
    auto_resume: bool = False
    device: str | None = None


@dataclass(frozen=True)
class ResolvedRun:
    """The config to train with, and the run directory to resume (None: fresh run)."""

    config: ExperimentConfig
    resume_dir: Path | None


def resolve_run(request: RunRequest) -> ResolvedRun:
    """Validate everything about the request; raise ConfigError/RunExistsError."""
    if request.resume is not None:
        if request.config_path is not None or request.overrides or request.auto_resume:
            raise ConfigError(
                "--resume: the run's own config.yaml is used; "
                "drop --config, --set and --auto-resume"
            )
        return ResolvedRun(
            _with_device(saved_config(request.resume), request), request.resume
        )

    raw = load_config(request.config_path) if request.config_path else {}
    raw, overridden = apply_overrides(raw, request.overrides)
    source = str(request.config_path) if request.config_path else "defaults"
    config = build_config(
        raw, source=source, default_experiment_name="run", overridden=overridden
    )
    if "experiment_name" not in raw:
        if request.auto_resume:
            raise ConfigError(
                f"{source}: experiment_name: --auto-resume needs a fixed name "
                "(set it in the config or with --set experiment_name=NAME)"
            )
        # A timestamp makes a second no-argument run a new run instead of a refusal.
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        name = f"{config.model.name}-{config.data.dataset_type}-{stamp}"
        config = dataclasses.replace(config, experiment_name=name)
    config = _with_device(config, request)

    paths = RunPaths(config.run_dir)
    save_dir_source = source_of("training.save_dir", source, overridden)
    check_save_dir(Path(config.training.save_dir), save_dir_source)
    if request.auto_resume and paths.last_checkpoint.is_file():
        # --auto-resume must not silently continue a run under a changed config.
        config_changes(
            saved_config(paths.root).to_dict(),
            config.to_dict(),
            paths.config,
            "use a new experiment_name to start fresh",
        )
        return ResolvedRun(config, paths.root)
    refuse_existing(paths.root)
    return ResolvedRun(config, None)


def saved_config(run_dir: Path) -> ExperimentConfig:
    """The validated ``config.yaml`` of an existing run directory."""
    paths = RunPaths(Path(run_dir))
    if not paths.root.is_dir():
        what = "not a directory" if paths.root.exists() else "run directory not found"
        raise ConfigError(f"{paths.root}: {what}")
    if not paths.config.is_file():
        raise ConfigError(f"{paths.root}: not a run directory (no config.yaml)")
    return build_config(
        load_config(paths.config),
        source=str(paths.config),
        default_experiment_name=paths.root.name,
    )


def _with_device(config: ExperimentConfig, request: RunRequest) -> ExperimentConfig:
    if request.device is None:
        return config
    training = dataclasses.replace(config.training, device=request.device)
    return dataclasses.replace(config, training=training)


def config_changes(
    saved: Mapping[str, Any],
    current: Mapping[str, Any],
    source: Path,
    remedy: str,
    refused: Collection[str] | None = None,
) -> dict[str, tuple[Any, Any]]:
    """Every dotted key whose value differs: ``{key: (saved value, current value)}``,
    but not ``training.device`` (this machine's, not the run's). ConfigError, naming
    ``source`` and ending in ``remedy``, for a change under ``refused`` (None: any)."""
    old, new = dotted_keys(saved), dotted_keys(current)
    changes = {
        key: (old.get(key), new.get(key))
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key) and key != "training.device"
    }
    for key, (before, after) in changes.items():
        if refused is None or any(
            key == name or key.startswith(f"{name}.") for name in refused
        ):
            raise ConfigError(
                f"{source}: {key}: the checkpoint was trained with {before!r}, the "
                f"config now says {after!r}; {remedy}"
            )
    return changes

"""What ml-slurm takes from ml-train: its flags, its config resolution, its executable.

ml_core.train imports torch, so it is imported inside these functions: status queries
and job-side status updates stay fast.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ml_core.slurm.errors import SlurmInputError


@dataclass(frozen=True)
class TrainerInvocation:
    """The ``ml-train`` arguments of one job, and where its run will live."""

    config_path: Path | None
    overrides: tuple[str, ...]
    device: str | None
    experiment_name: str
    run_dir: Path
    data_path: Path | None

    def argv(self) -> tuple[str, ...]:
        """Arguments for ml-train in the job (``--auto-resume`` is added by the script)."""
        args: list[str] = []
        if self.config_path is not None:
            args += ["--config", str(self.config_path)]
        for override in self.overrides:
            args += ["--set", override]
        if self.device is not None:
            args += ["--device", self.device]
        return tuple(args)


def train_flags_parser() -> argparse.ArgumentParser:
    """ml-train's own argument parser, without -h, to be used as a parent parser."""
    from ml_core.cli.train import get_args_parser

    return get_args_parser(add_help=False)


def resolve_invocation(
    config_path: Path | None, overrides: Sequence[str], device: str | None
) -> TrainerInvocation:
    """Validate the config exactly as ``ml-train --auto-resume`` will; absolute paths.

    Raises SlurmInputError with ml-train's own one-line message when it would refuse.
    """
    from ml_core.train import BAD_INPUT_ERRORS, TrainRequest, resolve_run

    config_path = config_path.resolve() if config_path is not None else None
    request = TrainRequest(
        config_path=config_path,
        overrides=tuple(overrides),
        auto_resume=True,
        device=device,
    )
    try:
        config = resolve_run(request).config
    except BAD_INPUT_ERRORS as error:
        raise SlurmInputError(str(error)) from None
    data_path = config.data.data_path
    return TrainerInvocation(
        config_path=config_path,
        overrides=tuple(overrides),
        device=device,
        experiment_name=config.experiment_name,
        run_dir=config.run_dir.resolve(),
        data_path=Path(data_path) if data_path is not None else None,
    )


def check_data(data_path: Path | None) -> str | None:
    """None if the data directory passes ml_core.data's check, else the problems."""
    if data_path is None:
        return None
    from ml_core.data import DataError, check_dataset

    try:
        report = check_dataset(data_path)
    except DataError as error:
        return str(error)
    if report.ok:
        return None
    return "; ".join(str(problem) for problem in report.problems)


def configured_save_dir(config_path: Path | None, overrides: Sequence[str]) -> Path:
    """``training.save_dir`` of a config with overrides, absolute; nothing else checked
    beyond what building the config needs (a sweep's base config has no run of its own).
    """
    from ml_core.train import ConfigError, apply_overrides, build_config, load_config

    try:
        raw = load_config(config_path) if config_path is not None else {}
        raw, overridden = apply_overrides(raw, overrides)
        config = build_config(
            raw,
            source=str(config_path or "defaults"),
            default_experiment_name="sweep",
            overridden=frozenset(overridden),
        )
    except ConfigError as error:
        raise SlurmInputError(str(error)) from None
    return Path(config.training.save_dir).resolve()

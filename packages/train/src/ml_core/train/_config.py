"""The typed training config: frozen dataclasses built from the course YAML layout.

Everything is checked here, before anything runs: unknown keys, wrong types, values out
of range, a missing ``data_path`` for real PCAM, and experiment names that could escape
``save_dir``. Errors are :class:`ConfigError` with one line naming the key and its source.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml_core.contract import DEVICE_CHOICES, SectionReader
from ml_core.data import DataConfig, read_data_section
from ml_core.train._model_config import ModelConfig, read_model_section
from ml_core.train._symmetries import (
    AugmentConfig,
    EvaluationConfig,
    read_augment_section,
    read_evaluation_section,
)

EXPERIMENT_NAME_PATTERN = re.compile(r"[A-Za-z0-9._-]+")
OPTIMIZERS = ("adam", "adamw", "sgd")
LR_SCHEDULES = ("none", "cosine", "step")
BEST_METRICS = ("val_auroc", "val_loss")
# numpy's legacy global generator, seeded too, takes 32-bit seeds.
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class TrainingConfig:
    """``training:``: optimisation, schedule, checkpoint choice, device and logging."""

    epochs: int = 3
    learning_rate: float = 0.001
    save_dir: str = "./experiments/results"
    optimizer: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    lr_schedule: str = "none"
    lr_step_size: int = 1
    lr_gamma: float = 0.1
    warmup_steps: int = 0
    # Guards Adam against the rare huge gradient of an outlier patch (measured: it
    # saved a full-size PCAM run that collapsed without it).
    grad_clip_norm: float | None = 1.0
    accumulate_grad_batches: int = 1
    val_every_steps: int = 0
    # Steps between looks at the device (loss check, shared stop): each one waits.
    sync_every_steps: int = 16
    best_metric: str = "val_auroc"
    device: str = "auto"
    cpu_threads: int | None = None
    bf16: bool = True
    compile: bool = False
    deterministic: bool = True
    log_every_seconds: float = 10.0


@dataclass(frozen=True)
class ExperimentConfig:
    """A whole, validated experiment config."""

    experiment_name: str
    seed: int = 42
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)

    def to_dict(self) -> dict[str, Any]:
        """The config in the course's key layout (lists, not tuples), for YAML and dicts."""
        plain = {
            field.name: _plain(dataclasses.asdict(getattr(self, field.name)))
            if dataclasses.is_dataclass(getattr(self, field.name))
            else getattr(self, field.name)
            for field in dataclasses.fields(self)
        }
        plain["model"] = self.model.to_dict()
        return plain

    def model_options(self, *, weights: bool = True) -> dict[str, Any]:
        """The ``model:`` section as ``ml_core.models.build_model`` takes it; without
        ``weights`` (for a model whose checkpoint is loaded next)."""
        options = self.model.to_dict()
        if options["weights"] is None or not weights:
            del options["weights"]
        return options

    @property
    def run_dir(self) -> Path:
        return Path(self.training.save_dir) / self.experiment_name


# Field defaults, read once so the YAML reader and the dataclasses cannot disagree.
TRAINING = TrainingConfig()


def build_config(
    raw: Mapping[str, Any],
    *,
    source: str,
    default_experiment_name: str,
    overridden: frozenset[str] = frozenset(),
) -> ExperimentConfig:
    """Validate ``raw`` (a YAML dict) into a :class:`ExperimentConfig`.

    ``source`` names the file in messages; keys in ``overridden`` are blamed on ``--set``.
    """

    def source_of(dotted: str) -> str:
        prefixes = {
            ".".join(dotted.split(".")[: i + 1]) for i in range(dotted.count(".") + 1)
        }
        return "--set" if prefixes & overridden else source

    top = SectionReader(raw, "", source_of)
    name = top.text("experiment_name", default_experiment_name)
    if not EXPERIMENT_NAME_PATTERN.fullmatch(name) or name in {".", ".."}:
        top.fail(
            "experiment_name", f"use only letters, digits, '.', '_', '-'; got {name!r}"
        )
    seed = top.integer("seed", 42, minimum=0, maximum=MAX_SEED)
    data = read_data_section(SectionReader(top.take("data", None), "data.", source_of))
    model = read_model_section(
        SectionReader(top.take("model", None), "model.", source_of)
    )
    training = _training_section(
        SectionReader(top.take("training", None), "training.", source_of)
    )
    augment = read_augment_section(
        SectionReader(top.take("augment", None), "augment.", source_of)
    )
    evaluation = read_evaluation_section(
        SectionReader(top.take("evaluation", None), "evaluation.", source_of)
    )
    top.finish()
    return ExperimentConfig(name, seed, data, model, training, augment, evaluation)


def _training_section(section: SectionReader) -> TrainingConfig:
    positive = "a number > 0"
    config = TrainingConfig(
        epochs=section.integer("epochs", TRAINING.epochs, minimum=1),
        learning_rate=section.number(
            "learning_rate", TRAINING.learning_rate, _positive, positive
        ),
        save_dir=section.text("save_dir", TRAINING.save_dir),
        optimizer=section.choice("optimizer", TRAINING.optimizer, OPTIMIZERS),
        momentum=section.number(
            "momentum", TRAINING.momentum, _in_range(0.0, 1.0), "a number in [0, 1]"
        ),
        weight_decay=section.number(
            "weight_decay", TRAINING.weight_decay, _non_negative, "a number >= 0"
        ),
        lr_schedule=section.choice("lr_schedule", TRAINING.lr_schedule, LR_SCHEDULES),
        lr_step_size=section.integer("lr_step_size", TRAINING.lr_step_size, minimum=1),
        lr_gamma=section.number(
            "lr_gamma",
            TRAINING.lr_gamma,
            _in_range(0.0, 1.0, lower_open=True),
            "a number in (0, 1]",
        ),
        warmup_steps=section.integer("warmup_steps", TRAINING.warmup_steps, minimum=0),
        grad_clip_norm=section.number(
            "grad_clip_norm",
            TRAINING.grad_clip_norm,
            _positive,
            "null or a number > 0",
            optional=True,
        ),
        accumulate_grad_batches=section.integer(
            "accumulate_grad_batches", TRAINING.accumulate_grad_batches, minimum=1
        ),
        val_every_steps=section.integer(
            "val_every_steps", TRAINING.val_every_steps, minimum=0
        ),
        sync_every_steps=section.integer(
            "sync_every_steps", TRAINING.sync_every_steps, minimum=1
        ),
        best_metric=section.choice("best_metric", TRAINING.best_metric, BEST_METRICS),
        device=section.choice("device", TRAINING.device, DEVICE_CHOICES),
        cpu_threads=section.integer(
            "cpu_threads", TRAINING.cpu_threads, minimum=1, optional=True
        ),
        bf16=section.boolean("bf16", default=TRAINING.bf16),
        compile=section.boolean("compile", default=TRAINING.compile),
        deterministic=section.boolean("deterministic", default=TRAINING.deterministic),
        log_every_seconds=section.number(
            "log_every_seconds",
            TRAINING.log_every_seconds,
            _non_negative,
            "a number >= 0",
        ),
    )
    section.finish()
    return config


def _positive(value: float) -> bool:
    return value > 0


def _non_negative(value: float) -> bool:
    return value >= 0


def _in_range(
    low: float, high: float, *, lower_open: bool = False, upper_open: bool = False
) -> Callable[[float], bool]:
    def check(value: float) -> bool:
        above = value > low if lower_open else value >= low
        below = value < high if upper_open else value <= high
        return above and below

    return check


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value

"""The typed training config: frozen dataclasses built from the course YAML layout,
all checked before anything runs (a one-line :class:`ConfigError` names the key)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ml_core.contract import DEVICE_CHOICES, SectionReader
from ml_core.data import DataConfig, read_data_section
from ml_core.models import available_models, model_options

EXPERIMENT_NAME_PATTERN = re.compile(r"[A-Za-z0-9._-]+")
# The optimizers, each with its memory per parameter in bytes: float32 weights and
# gradients (8) plus its state (Adam's two moments 8, SGD's momentum buffer 4).
OPTIMIZER_BYTES_PER_PARAMETER = {"adam": 16, "adamw": 16, "sgd": 12}
LR_SCHEDULES = ("none", "cosine", "step")
BEST_METRICS = ("val_auroc", "val_loss")
_Reader = Callable[[str, Any], Any]
# numpy's legacy global generator, seeded too, takes 32-bit seeds.
MAX_SEED = 2**32 - 1
WIDTH_LISTS = ("hidden_units", "widths")


@dataclass(frozen=True)
class ModelConfig:
    """``model:``: the registry ``name``, its options (resolved), a weights file."""

    name: str = "mlp"
    options: tuple[tuple[str, Any], ...] = (
        ("hidden_units", (64, 32)),
        ("dropout_rate", 0.2),
    )
    weights: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The section as YAML and ``build_model`` take it (lists, not tuples)."""
        return {
            "name": self.name,
            **_plain(dict(self.options)),
            "weights": self.weights,
        }


def _model_section(section: SectionReader) -> ModelConfig:
    name = section.take("name", ModelConfig.name)
    if name not in available_models():
        section.fail(
            "name",
            f"unknown model {name!r} (available: {', '.join(available_models())})",
        )
    options: list[tuple[str, Any]] = []
    for key, default in model_options(name).items():
        if key == "num_classes":
            # PCAM has two classes: accepted (the course's config has it), not a knob.
            if section.integer("num_classes", 2) != 2:
                section.fail("num_classes", "PCAM has 2 classes")
        elif key in WIDTH_LISTS:
            widths = section.integers(key, default)
            if key == "widths" and not widths:
                section.fail(key, "give at least one stage width")
            options.append((key, widths))
        elif key == "dropout_rate":
            rate = section.number(
                key, default, lambda value: 0.0 <= value < 1.0, "a number in [0, 1)"
            )
            options.append((key, rate))
    weights = section.text("weights", None, optional=True)
    if weights is not None:
        path = Path(weights).expanduser().resolve()
        if not path.is_file():
            section.fail("weights", f"file {weights} does not exist")
        weights = str(path)
    section.finish()
    return ModelConfig(name=name, options=tuple(options), weights=weights)


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
class AugmentConfig:
    """``augment:``: symmetries on/off; jitter strengths s (0: off) scale brightness
    or contrast by 1 ± s, or turn hue by up to s * 180 degrees, drawn per sample."""

    symmetries: bool = False
    brightness: float = 0.0
    contrast: float = 0.0
    hue: float = 0.0

    @property
    def enabled(self) -> bool:
        return self.symmetries or any((self.brightness, self.contrast, self.hue))


@dataclass(frozen=True)
class EvaluationConfig:
    """``evaluation:``: ``tta`` averages the eight symmetric views at test time."""

    tta: bool = False


def _augment_section(section: SectionReader) -> AugmentConfig:
    mild = "a number in [0, 0.5]"
    config = AugmentConfig(
        symmetries=section.boolean("symmetries", default=False),
        **{
            key: section.number(key, 0.0, lambda value: 0.0 <= value <= 0.5, mild)
            for key in ("brightness", "contrast", "hue")
        },
    )
    section.finish()
    return config


def _evaluation_section(section: SectionReader) -> EvaluationConfig:
    config = EvaluationConfig(tta=section.boolean("tta", default=False))
    section.finish()
    return config


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
        return {**_plain(dataclasses.asdict(self)), "model": self.model.to_dict()}

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


def build_config(
    raw: Mapping[str, Any],
    *,
    source: str,
    default_experiment_name: str,
    overridden: Collection[str] = frozenset(),
) -> ExperimentConfig:
    """Validate ``raw`` (a YAML dict) into a :class:`ExperimentConfig`; messages name
    ``source``, or ``--set`` for keys in (sections in) ``overridden``."""
    blame = partial(source_of, source=source, overridden=overridden)
    top = SectionReader(raw, "", blame)

    def section(name: str) -> SectionReader:
        return SectionReader(top.take(name, None), f"{name}.", blame)

    name = top.text("experiment_name", default_experiment_name)
    if not EXPERIMENT_NAME_PATTERN.fullmatch(name) or name in {".", ".."}:
        top.fail(
            "experiment_name", f"use only letters, digits, '.', '_', '-'; got {name!r}"
        )
    seed = top.integer("seed", 42, minimum=0, maximum=MAX_SEED)
    config = ExperimentConfig(
        name,
        seed,
        read_data_section(section("data")),
        _model_section(section("model")),
        _training_section(section("training")),
        _augment_section(section("augment")),
        _evaluation_section(section("evaluation")),
    )
    top.finish()
    return config


def source_of(dotted: str, source: str, overridden: Collection[str]) -> str:
    """``--set`` if ``dotted`` or a section above it was overridden, else ``source``."""
    blamed = any(dotted == key or dotted.startswith(f"{key}.") for key in overridden)
    return "--set" if blamed else source


def _training_section(section: SectionReader) -> TrainingConfig:
    integer, choice = section.integer, section.choice

    def number(
        check: Callable[[float], bool], expected: str, *, optional: bool = False
    ) -> _Reader:
        return partial(
            section.number, check=check, expected=expected, optional=optional
        )

    def boolean(key: str, default: bool) -> bool:
        return section.boolean(key, default=default)

    # In field order, which is also the order "unknown key (known: ...)" lists them.
    readers: dict[str, _Reader] = {
        "epochs": partial(integer, minimum=1),
        "learning_rate": number(lambda value: value > 0, "a number > 0"),
        "save_dir": section.text,
        "optimizer": partial(choice, choices=tuple(OPTIMIZER_BYTES_PER_PARAMETER)),
        "momentum": number(lambda value: 0 <= value <= 1, "a number in [0, 1]"),
        "weight_decay": number(lambda value: value >= 0, "a number >= 0"),
        "lr_schedule": partial(choice, choices=LR_SCHEDULES),
        "lr_step_size": partial(integer, minimum=1),
        "lr_gamma": number(lambda value: 0 < value <= 1, "a number in (0, 1]"),
        "warmup_steps": partial(integer, minimum=0),
        "grad_clip_norm": number(
            lambda value: value > 0, "null or a number > 0", optional=True
        ),
        "accumulate_grad_batches": partial(integer, minimum=1),
        "val_every_steps": partial(integer, minimum=0),
        "sync_every_steps": partial(integer, minimum=1),
        "best_metric": partial(choice, choices=BEST_METRICS),
        "device": partial(choice, choices=DEVICE_CHOICES),
        "cpu_threads": partial(integer, minimum=1, optional=True),
        "bf16": boolean,
        "compile": boolean,
        "deterministic": boolean,
        "log_every_seconds": number(lambda value: value >= 0, "a number >= 0"),
    }
    # A dataclass's class attributes are its fields' defaults.
    config = TrainingConfig(
        **{
            key: read(key, getattr(TrainingConfig, key))
            for key, read in readers.items()
        }
    )
    section.finish()
    return config


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value

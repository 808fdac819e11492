"""The ``model:`` section: a registry name, that model's own options, a weights file.
Keys and defaults come from :func:`ml_core.models.model_options`, so a new model needs
no change here; all are resolved so that ``config.yaml`` records every value."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml_core.contract import SectionReader
from ml_core.models import available_models, model_options

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
        options = {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in self.options
        }
        return {"name": self.name, **options, "weights": self.weights}


def read_model_section(section: SectionReader) -> ModelConfig:
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

"""The typed config: defaults, YAML overrides, blame for errors, and round trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_core.train import ConfigError, apply_overrides, build_config, load_config

COURSE_YAML = Path(__file__).resolve().parents[2] / "configs" / "course.yaml"
EXAMPLE_YAML = COURSE_YAML.with_name("synthetic.yaml")


def _build(raw: dict, overridden: frozenset[str] = frozenset()) -> object:
    return build_config(
        raw, source="x.yaml", default_experiment_name="run", overridden=overridden
    )


def test_defaults_are_the_course_layout() -> None:
    config = _build({})
    assert config.experiment_name == "run"
    assert config.data.dataset_type == "synthetic"
    assert config.data.input_shape == (3, 96, 96)
    assert config.model_options()["hidden_units"] == [64, 32]
    assert config.training.save_dir == "./experiments/results"
    assert config.run_dir == Path("experiments/results/run")
    assert list(config.to_dict()) == [
        "experiment_name",
        "seed",
        "data",
        "model",
        "training",
        "augment",
        "evaluation",
    ]


def test_overrides_are_parsed_as_yaml() -> None:
    raw, touched = apply_overrides(
        {"training": {"epochs": 5}},
        [
            "training.epochs=2",
            "model.hidden_units=[8, 4]",
            "training.grad_clip_norm=null",
            "training.learning_rate=1e-3",
        ],
    )
    config = _build(raw, frozenset(touched))
    assert config.training.epochs == 2
    assert config.model_options()["hidden_units"] == [8, 4]
    assert config.training.grad_clip_norm is None
    assert config.training.learning_rate == pytest.approx(0.001)
    assert touched == {
        "training.epochs",
        "model.hidden_units",
        "training.grad_clip_norm",
        "training.learning_rate",
    }


def test_errors_blame_set_or_the_file() -> None:
    with pytest.raises(ConfigError, match=r"^--set: training\.epochs: "):
        _build({"training": {"epochs": -1}}, frozenset({"training.epochs"}))
    with pytest.raises(ConfigError, match=r"^x\.yaml: training\.epochs: "):
        _build({"training": {"epochs": -1}})
    with pytest.raises(ConfigError, match=r"^x\.yaml: seed: expected an integer"):
        _build({"seed": True})


def test_resolved_config_round_trips() -> None:
    config = _build({"training": {"lr_schedule": "cosine", "epochs": 4}})
    again = build_config(
        config.to_dict(), source="config.yaml", default_experiment_name="other"
    )
    assert again == config


@pytest.mark.parametrize("path", [COURSE_YAML, EXAMPLE_YAML], ids=lambda p: p.name)
def test_shipped_configs_validate(path: Path, tmp_path: Path) -> None:
    raw = load_config(path)
    if raw["data"].get("data_path"):
        raw["data"]["data_path"] = str(tmp_path)  # the course's ./data/pcam is absent
    config = build_config(raw, source=str(path), default_experiment_name="x")
    assert config.experiment_name == raw["experiment_name"]

"""Config-driven model construction and the parameter maths."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ml_core.models import (
    MLP,
    ModelConfigError,
    build_model,
    count_parameters,
    flat_input_size,
    model_options,
    parameter_table,
    register_model,
    registry,
)


def test_flat_input_size_of_a_pcam_patch() -> None:
    assert flat_input_size([3, 96, 96]) == 27_648


def test_build_model_defaults_to_mlp() -> None:
    model = build_model({"hidden_units": [64, 32], "dropout_rate": 0.1}, [3, 96, 96])
    assert isinstance(model, MLP)
    assert model.hidden_units == (64, 32)
    assert model.dropout_rate == 0.1


def test_build_model_by_name() -> None:
    model = build_model(
        {"name": "mlp", "hidden_units": [], "num_classes": 3}, [1, 2, 2]
    )
    assert model(torch.randn(5, 1, 2, 2)).shape == (5, 3)


def test_unknown_model_name_lists_the_available_ones() -> None:
    with pytest.raises(ModelConfigError, match=r"model.name: unknown model 'vgg'.*mlp"):
        build_model({"name": "vgg"}, [3, 96, 96])


def test_unknown_option_names_the_key() -> None:
    with pytest.raises(ModelConfigError, match=r"model.hidden_layers: unknown option"):
        build_model({"hidden_layers": [8]}, [3, 96, 96])


def test_registered_model_needs_no_other_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A copy of the registry for this test: the extra model is gone afterwards.
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    name = "test_only_linear"

    @register_model(name)
    def _linear(input_shape, num_classes: int = 2) -> nn.Module:
        width = flat_input_size(input_shape)
        return nn.Sequential(nn.Flatten(), nn.Linear(width, num_classes))

    assert model_options(name) == {"num_classes": 2}
    model = build_model({"name": name}, [3, 4, 4])
    assert model(torch.randn(2, 3, 4, 4)).shape == (2, 2)
    with pytest.raises(ModelConfigError, match="already registered"):
        register_model(name)(nn.Identity)


def test_parameter_count_matches_the_dimension_maths() -> None:
    model = MLP(input_shape=[3, 96, 96], hidden_units=[64, 32])
    expected = (27_648 * 64 + 64) + (64 * 32 + 32) + (32 * 2 + 2)
    assert count_parameters(model) == expected
    rows = parameter_table(model)
    assert [row.shape for row in rows] == [
        (64, 27_648),
        (64,),
        (32, 64),
        (32,),
        (2, 32),
        (2,),
    ]
    assert sum(row.count for row in rows) == expected


def test_frozen_parameters_are_counted_only_on_request() -> None:
    model = MLP(input_shape=[1, 2, 2], hidden_units=[3])
    for param in model.layers[1].parameters():
        param.requires_grad_(requires_grad=False)
    assert count_parameters(model) == 3 * 2 + 2
    assert count_parameters(model, trainable_only=False) == (4 * 3 + 3) + (3 * 2 + 2)

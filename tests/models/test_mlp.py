"""The course MLP: shapes, gradients, determinism and every error path."""

from __future__ import annotations

import pytest
import torch

from ml_core.models import MLP

PCAM_SHAPE = [3, 96, 96]


def test_maps_pcam_batch_to_logits() -> None:
    model = MLP(input_shape=PCAM_SHAPE, hidden_units=[64, 32])
    assert model(torch.randn(8, 3, 96, 96)).shape == (8, 2)


@pytest.mark.parametrize("num_classes", [2, 5])
def test_output_width_follows_num_classes(num_classes: int) -> None:
    model = MLP(input_shape=[1, 4, 4], hidden_units=[8], num_classes=num_classes)
    assert model(torch.randn(3, 1, 4, 4)).shape == (3, num_classes)


def test_empty_hidden_units_is_a_linear_model() -> None:
    model = MLP(input_shape=[3, 8, 8], hidden_units=[])
    linear_layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linear_layers) == 1
    assert linear_layers[0].in_features == 3 * 8 * 8
    assert model(torch.randn(2, 3, 8, 8)).shape == (2, 2)


def test_layer_structure() -> None:
    model = MLP(input_shape=[3, 8, 8], hidden_units=[16, 4], dropout_rate=0.3)
    kinds = [type(m).__name__ for m in model.layers]
    assert kinds == [
        "Flatten",
        "Linear",
        "ReLU",
        "Dropout",
        "Linear",
        "ReLU",
        "Dropout",
        "Linear",
    ]
    assert all(m.p == 0.3 for m in model.layers if isinstance(m, torch.nn.Dropout))


def test_backprop_changes_every_parameter() -> None:
    torch.manual_seed(0)
    model = MLP(input_shape=[3, 8, 8], hidden_units=[16, 8], dropout_rate=0.0)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    logits = model(torch.randn(16, 3, 8, 8))
    torch.nn.functional.cross_entropy(logits, torch.randint(0, 2, (16,))).backward()
    optimizer.step()
    for name, param in model.named_parameters():
        assert not torch.equal(before[name], param), f"{name} did not change"


def test_eval_mode_is_deterministic() -> None:
    model = MLP(input_shape=[3, 8, 8], hidden_units=[32], dropout_rate=0.5).eval()
    x = torch.randn(4, 3, 8, 8)
    assert torch.equal(model(x), model(x))


def test_train_mode_applies_dropout() -> None:
    torch.manual_seed(0)
    model = MLP(input_shape=[3, 8, 8], hidden_units=[256], dropout_rate=0.5).train()
    x = torch.randn(4, 3, 8, 8)
    assert not torch.equal(model(x), model(x))


def test_wrong_input_shape_names_expected_and_got() -> None:
    model = MLP(input_shape=PCAM_SHAPE, hidden_units=[8])
    with pytest.raises(
        ValueError, match=r"expected .*\(3, 96, 96\), got \(3, 64, 64\)"
    ):
        model(torch.randn(2, 3, 64, 64))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input_shape": [3, 96]}, r"input_shape must have 3 entries.*\(3, 96\)"),
        ({"input_shape": [3, 0, 96]}, r"input_shape\[1\] must be a positive.*0"),
        ({"input_shape": [3, 96, -1]}, r"input_shape\[2\] must be a positive.*-1"),
        ({"hidden_units": [64, 0]}, r"hidden_units\[1\] must be a positive.*0"),
        ({"hidden_units": [-3]}, r"hidden_units\[0\] must be a positive.*-3"),
        ({"dropout_rate": 1.0}, r"dropout_rate must be in \[0, 1\), got 1.0"),
        ({"dropout_rate": -0.1}, r"dropout_rate must be in \[0, 1\), got -0.1"),
        ({"num_classes": 1}, r"num_classes must be at least 2, got 1"),
    ],
)
def test_bad_arguments_name_argument_and_value(kwargs: dict, message: str) -> None:
    arguments = {"input_shape": PCAM_SHAPE, "hidden_units": [8], **kwargs}
    with pytest.raises(ValueError, match=message):
        MLP(**arguments)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dropout_rate": "high"}, r"dropout_rate must be a number, got 'high'"),
        ({"num_classes": 2.5}, r"num_classes must be an integer, got 2.5"),
        ({"hidden_units": [True]}, r"hidden_units\[0\] must be a positive.*True"),
    ],
)
def test_wrong_argument_types_are_rejected(kwargs: dict, message: str) -> None:
    arguments = {"input_shape": PCAM_SHAPE, "hidden_units": [8], **kwargs}
    with pytest.raises((TypeError, ValueError), match=message):
        MLP(**arguments)

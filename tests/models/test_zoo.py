"""The models beyond the MLP: shapes, parameter counts, config errors, weights files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from ml_core.models import (
    ModelConfigError,
    SmallCNN,
    available_models,
    build_model,
    classifier_head,
    count_parameters,
    model_options,
)

PCAM = [3, 96, 96]
# The counts each model's docstring states, for 3 x 96 x 96 input.
PARAMETERS = {
    "mlp": 1_771_682,
    "cnn": 97_938,
    "resnet18": 11_177_538,
    "resnet34": 21_285_698,
    "resnet50": 23_512_130,
    "resnet101": 42_504_258,
    "resnet152": 58_147_906,
}


def test_registry_lists_every_model() -> None:
    assert available_models() == sorted(PARAMETERS)


@pytest.mark.parametrize("name", ["mlp", "cnn", "resnet18"])
def test_forward_and_backward_shapes(name: str) -> None:
    torch.manual_seed(0)
    model = build_model({"name": name}, PCAM)
    images = torch.rand(4, *PCAM, requires_grad=True)
    logits = model(images)
    assert logits.shape == (4, 2)
    logits.sum().backward()
    assert images.grad is not None
    assert images.grad.shape == images.shape
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_parameter_count_matches_the_docstring(name: str) -> None:
    with torch.device("meta"):  # counting needs no memory, even for resnet152
        model = build_model({"name": name}, PCAM)
    assert count_parameters(model) == PARAMETERS[name]


def test_cnn_widths_are_configurable() -> None:
    model = build_model({"name": "cnn", "widths": [8, 16]}, PCAM)
    assert isinstance(model, SmallCNN)
    assert model.widths == (8, 16)
    assert model(torch.rand(2, *PCAM)).shape == (2, 2)
    assert model_options("cnn") == {
        "widths": (16, 32, 64, 128),
        "num_classes": 2,
        "dropout_rate": 0.2,
    }


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": "vgg16"}, r"unknown model 'vgg16' \(available: cnn, mlp, resnet101"),
        ({"name": "cnn", "widths": []}, "widths must be positive integers"),
        (
            {"name": "cnn", "widths": [8] * 7},
            "7 pooling stages need inputs of at least",
        ),
        ({"name": "resnet18", "widths": [8]}, "model.widths: unknown option"),
    ],
)
def test_bad_models_are_one_line_errors(options: dict, message: str) -> None:
    with pytest.raises(ModelConfigError, match=message) as error:
        build_model(options, PCAM)
    assert "\n" not in str(error.value)


def test_weights_file_loads_everything_but_the_head(tmp_path: Path) -> None:
    torch.manual_seed(1)
    source = build_model({"name": "resnet18", "num_classes": 1000}, PCAM)
    torch.save(source.state_dict(), tmp_path / "imagenet-like.pt")
    torch.manual_seed(2)
    head = build_model({"name": "resnet18"}, PCAM).fc.weight.detach().clone()
    torch.manual_seed(2)
    loaded = build_model(
        {"name": "resnet18", "weights": str(tmp_path / "imagenet-like.pt")}, PCAM
    )
    assert classifier_head(loaded) == "fc"
    for key, value in source.state_dict().items():
        if not key.startswith("fc."):
            assert torch.equal(loaded.state_dict()[key], value), key
    assert loaded.fc.weight.shape == (2, 512)  # the 1,000-class head was not taken
    assert torch.equal(loaded.fc.weight, head)  # the same seed's random init


def test_weights_of_another_model_name_the_keys(tmp_path: Path) -> None:
    torch.save(build_model({"name": "cnn"}, PCAM).state_dict(), tmp_path / "cnn.pt")
    with pytest.raises(ModelConfigError) as error:
        build_model({"name": "resnet18", "weights": str(tmp_path / "cnn.pt")}, PCAM)
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'cnn.pt'}: model.weights does not fit")
    assert re.search(r"missing keys bn1\.\S+, bn1\.\S+, bn1\.\S+ and 117 more", message)
    assert re.search(r"unexpected keys features\.0\.0\.weight, .* and 23 more", message)
    narrow = build_model({"name": "cnn", "widths": [8, 16, 32, 64]}, PCAM)
    torch.save(narrow.state_dict(), tmp_path / "narrow.pt")
    with pytest.raises(ModelConfigError, match=r"shape-mismatched keys features\.0\.0"):
        build_model({"name": "cnn", "weights": str(tmp_path / "narrow.pt")}, PCAM)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not a torch file", "cannot load"), (None, "file not found")],
)
def test_unreadable_weights_file(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "weights.pt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelConfigError, match=message):
        build_model({"name": "cnn", "weights": str(path)}, PCAM)

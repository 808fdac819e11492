"""Pick an architecture by name from a config's ``model:`` section; a registered model
needs no trainer change (the trainer only calls :func:`build_model`)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from torch import nn

from ml_core.models.cnn import SmallCNN
from ml_core.models.errors import ModelConfigError
from ml_core.models.mlp import MLP
from ml_core.models.resnet import RESNETS, build_resnet
from ml_core.models.weights import load_weights

ModelFactory = Callable[..., nn.Module]

DEFAULT_MODEL = "mlp"

_REGISTRY: dict[str, ModelFactory] = {}


def register_model(name: str) -> Callable[[ModelFactory], ModelFactory]:
    """Decorator: make ``factory(input_shape=..., **options)`` buildable by ``name``."""

    def decorator(factory: ModelFactory) -> ModelFactory:
        if name in _REGISTRY:
            raise ModelConfigError(f"model name {name!r} is already registered")
        _REGISTRY[name] = factory
        return factory

    return decorator


def available_models() -> list[str]:
    """Registered model names, sorted."""
    return sorted(_REGISTRY)


def model_options(name: str) -> dict[str, Any]:
    """The config keys (besides ``name`` and ``weights``) model ``name`` takes, with
    their defaults."""
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ModelConfigError(
            f"model.name: unknown model {name!r} "
            f"(available: {', '.join(available_models())})"
        )
    return {
        parameter.name: parameter.default
        for parameter in inspect.signature(_REGISTRY[name]).parameters.values()
        if parameter.name != "input_shape"
    }


def build_model(
    model_config: Mapping[str, Any], input_shape: Sequence[int]
) -> nn.Module:
    """Build the model named by ``model_config["name"]`` (default ``mlp``) with the
    other keys as its options, and load ``weights`` (a path) if given.

    Unknown keys and bad values raise :class:`ModelConfigError` naming the key.
    """
    options = dict(model_config)
    name = options.pop("name", DEFAULT_MODEL)
    weights = options.pop("weights", None)
    accepted = set(model_options(name))
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise ModelConfigError(
            f"model.{unknown[0]}: unknown option for model {name!r} "
            f"(accepted: {', '.join(sorted(accepted | {'weights'}))})"
        )
    try:
        model = _REGISTRY[name](input_shape=input_shape, **options)
    except (TypeError, ValueError) as error:
        raise ModelConfigError(f"model ({name}): {error}") from None
    if weights is not None:
        load_weights(model, Path(weights))
    return model


# A class is its own factory: its constructor's keywords are the config's options.
register_model("cnn")(SmallCNN)
register_model("mlp")(MLP)
for _name in RESNETS:
    register_model(_name)(functools.partial(build_resnet, _name))

"""Model architectures for PCAM: the course MLP, a name registry, parameter counts."""

from ml_core.models.mlp import MLP
from ml_core.models.parameters import LayerParameters, count_parameters, parameter_table
from ml_core.models.registry import (
    DEFAULT_MODEL,
    ModelConfigError,
    available_models,
    build_model,
    model_options,
    register_model,
)
from ml_core.models.shapes import flat_input_size, validate_input_shape

__all__ = [
    "DEFAULT_MODEL",
    "MLP",
    "LayerParameters",
    "ModelConfigError",
    "available_models",
    "build_model",
    "count_parameters",
    "flat_input_size",
    "model_options",
    "parameter_table",
    "register_model",
    "validate_input_shape",
]

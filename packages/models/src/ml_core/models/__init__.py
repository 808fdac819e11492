"""Model architectures for PCAM: the course MLP, a small CNN, torchvision's ResNets, a
name registry, weights loading and parameter counts."""

from ml_core.models.cnn import SmallCNN
from ml_core.models.errors import ModelConfigError
from ml_core.models.mlp import MLP
from ml_core.models.parameters import LayerParameters, count_parameters, parameter_table
from ml_core.models.registry import (
    available_models,
    build_model,
    model_options,
    register_model,
)
from ml_core.models.shapes import flat_input_size, validate_input_shape
from ml_core.models.weights import classifier_head, load_weights

__all__ = [
    "MLP",
    "LayerParameters",
    "ModelConfigError",
    "SmallCNN",
    "available_models",
    "build_model",
    "classifier_head",
    "count_parameters",
    "flat_input_size",
    "load_weights",
    "model_options",
    "parameter_table",
    "register_model",
    "validate_input_shape",
]

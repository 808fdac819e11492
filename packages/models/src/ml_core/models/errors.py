"""The exception of ml_core.models."""

from __future__ import annotations


class ModelConfigError(ValueError):
    """A ``model:`` config section names an unknown model, has a bad key or value, or
    a weights file that does not fit; the message is one line naming it."""

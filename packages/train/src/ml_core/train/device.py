"""The one place that picks the compute device: cuda > mps > cpu, or what was asked."""

from __future__ import annotations

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


class DeviceUnavailableError(RuntimeError):
    """The requested device does not exist on this machine."""


def select_device(requested: str = "auto") -> torch.device:
    """Return the device for ``requested`` (one of :data:`DEVICE_CHOICES`)."""
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise DeviceUnavailableError("device cuda: CUDA is not available here")
    if requested == "mps" and not torch.backends.mps.is_available():
        raise DeviceUnavailableError("device mps: MPS is not available here")
    if requested not in DEVICE_CHOICES:
        raise DeviceUnavailableError(
            f"device {requested!r}: choose one of {', '.join(DEVICE_CHOICES)}"
        )
    return torch.device(requested)

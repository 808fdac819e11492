"""The compute device (cuda > mps > cpu, or as asked), its free memory, CPU threads."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ml_core.contract import DEVICE_CHOICES


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


def set_cpu_threads(requested: int | None, num_workers: int) -> int:
    """Set torch's CPU thread count and return it: ``requested``, or with loader
    workers, one core each left to them (busy compute threads starve them: README)."""
    if requested is not None:
        torch.set_num_threads(requested)
    elif num_workers > 0:
        cores = (
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1
        )
        torch.set_num_threads(max(1, min(torch.get_num_threads(), cores - num_workers)))
    return torch.get_num_threads()


def available_memory(device: torch.device) -> int | None:
    """Bytes free for a new model on ``device`` (host: MemAvailable); None if unknown."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        lines = Path("/proc/meminfo").read_text(encoding="ascii").splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return None

"""The one place that picks the compute device (cuda > mps > cpu, or as asked) and
the CPU thread count next to DataLoader workers."""

from __future__ import annotations

import os

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


def leave_cores_for_workers(num_workers: int) -> int:
    """Cap torch's CPU threads so DataLoader workers get a core each; the new count.

    Busy-waiting compute threads otherwise starve the workers on small machines (on 2
    cores, 2 workers ran 30x slower). Uses the cores this process may run on, so a Slurm
    allocation is respected.
    """
    if num_workers > 0:
        available = (
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else (os.cpu_count() or 1)
        )
        torch.set_num_threads(
            max(1, min(torch.get_num_threads(), available - num_workers))
        )
    return torch.get_num_threads()

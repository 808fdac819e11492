"""Background host-to-device batch copies for a split that lives in host memory.

A thread gathers each batch on the host (into page-locked memory when the target is a
CUDA device), starts a non-blocking copy on its own CUDA stream and hands the device
tensors over through a bounded queue, so up to ``depth`` batches travel while the
model computes. On a CPU target the same thread runs without pinning or streams.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator

import torch

Batch = tuple[torch.Tensor, torch.Tensor]

# Batches in flight ahead of the consumer: one computing, one or two copying.
DEFAULT_DEPTH = 2
_POLL_SECONDS = 0.1


class _Finished:
    """End-of-epoch marker put on the queue by the producer thread."""


class _Failed:
    """Carries an exception from the producer thread to the consumer."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def pinned_like(tensor: torch.Tensor) -> torch.Tensor:
    """A page-locked copy of a host tensor (from torch's caching host allocator)."""
    out = torch.empty(tensor.shape, dtype=tensor.dtype, pin_memory=True)
    return out.copy_(tensor)


class _CudaCopier:
    """Copies host batches to one CUDA device on a side stream, finished on return."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.stream = torch.cuda.Stream(device)

    def __call__(self, images: torch.Tensor, labels: torch.Tensor) -> Batch:
        images, labels = pinned_like(images), pinned_like(labels)
        with torch.cuda.device(self.device), torch.cuda.stream(self.stream):
            on_device = (
                images.to(self.device, non_blocking=True),
                labels.to(self.device, non_blocking=True),
            )
        # Waiting here (in the producer thread) keeps the consumer's stream free of
        # cross-stream waits; the pinned buffers return to the cache afterwards.
        self.stream.synchronize()
        return on_device


def _host_copier(device: torch.device) -> Callable[[torch.Tensor, torch.Tensor], Batch]:
    def copy(images: torch.Tensor, labels: torch.Tensor) -> Batch:
        return images.to(device), labels.to(device)

    return copy


def prefetched(
    host_batches: Iterator[Batch], device: torch.device, depth: int = DEFAULT_DEPTH
) -> Iterator[Batch]:
    """Yield ``host_batches`` moved to ``device``, produced ``depth`` ahead by a thread.

    Stopping early (``break``, garbage collection) stops and joins the thread.
    """
    if depth < 1:
        raise ValueError(f"prefetch depth must be >= 1, got {depth}")
    copy = _CudaCopier(device) if device.type == "cuda" else _host_copier(device)
    handoff: queue.Queue[Batch | _Finished | _Failed] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Batch | _Finished | _Failed) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=_POLL_SECONDS)
            except queue.Full:
                continue
            return True
        return False

    def produce() -> None:
        try:
            for images, labels in host_batches:
                if not put(copy(images, labels)):
                    return
            put(_Finished())
        except Exception as error:  # noqa: BLE001 - handed to the consumer, re-raised
            put(_Failed(error))

    thread = threading.Thread(target=produce, name="ml-data-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = handoff.get()
            if isinstance(item, _Finished):
                return
            if isinstance(item, _Failed):
                raise item.error
            images, labels = item
            if device.type == "cuda":
                # Allocated on the copy stream: keep the memory until the consumer's
                # stream is done with it.
                current = torch.cuda.current_stream(device)
                images.record_stream(current)
                labels.record_stream(current)
            yield images, labels
    finally:
        stop.set()
        thread.join()

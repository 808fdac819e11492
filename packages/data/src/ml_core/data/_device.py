"""``split_location: device``: each split one uint8 tensor, each batch gathered there.

A split that does not fit in free device memory (less :data:`DEVICE_HEADROOM_BYTES`)
stays in host memory, and a background thread copies each gathered batch over.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ml_core.data._batches import Batch, load_planar
from ml_core.data._h5files import SplitFiles
from ml_core.data._layout import IMAGE_SHAPE
from ml_core.data._pixels import kept_rows
from ml_core.data._sampler import EpochBatchSampler

# Device memory left free after the split is loaded: the CUDA context, the model, its
# optimizer state, activations and the other splits. Generous for the course models.
DEVICE_HEADROOM_BYTES = 2 * 1024**3
# Batches in flight ahead of the consumer: one computing, one or two copying.
PREFETCH_DEPTH = 2
_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class DeviceSplit:
    """A loaded split: ``images`` and ``file_labels`` (every file row) on the device, or
    in host memory when not ``resident``; ``indices`` (the kept rows, on ``device``)
    and their ``labels`` (for the sampler)."""

    images: torch.Tensor
    file_labels: torch.Tensor
    indices: torch.Tensor
    labels: np.ndarray
    device: torch.device
    resident: bool

    def __len__(self) -> int:
        return len(self.indices)

    def gather(self, positions: torch.Tensor) -> Batch:
        """Images and labels at kept-sample ``positions``: one ``index_select`` each."""
        rows = self.indices.index_select(0, positions.to(self.indices.device))
        rows = rows.to(self.images.device)
        return self.images.index_select(0, rows), self.file_labels.index_select(0, rows)

    @classmethod
    def load(
        cls,
        split: SplitFiles,
        device: torch.device,
        filter_data: bool,
        memory_budget: int | None,
    ) -> DeviceSplit:
        """Read ``split`` into ``device`` memory if it fits with the headroom left free,
        else into host memory; ``memory_budget`` replaces the device's free memory."""
        if device.type == "cuda" and device.index is None:  # cuda -> cuda:<current>
            device = torch.device("cuda", torch.cuda.current_device())
        kept = kept_rows(split, filter_data)
        nbytes = split.num_samples * math.prod(IMAGE_SHAPE)
        if memory_budget is None and device.type == "cuda":
            memory_budget = int(torch.cuda.mem_get_info(device)[0])
        # Without a budget the device is host RAM: the split fits.
        resident = memory_budget is None or (
            nbytes + DEVICE_HEADROOM_BYTES <= memory_budget
        )
        home = device if resident else torch.device("cpu")
        return cls(
            images=load_planar(split.x_path, split.num_samples, home),
            file_labels=torch.from_numpy(split.labels).to(home),
            indices=torch.from_numpy(kept).to(device),
            labels=split.labels[kept],
            device=device,
            resident=resident,
        )


class DeviceLoader:
    """Iterable of ``(uint8 images, long labels)`` batches on ``split.device``, one per
    position tensor of ``batch_sampler``."""

    def __init__(
        self,
        split: DeviceSplit,
        batch_sampler: EpochBatchSampler | Sequence[torch.Tensor],
    ) -> None:
        self.split = split
        self.batch_sampler = batch_sampler
        self.resident = split.resident

    def __len__(self) -> int:
        return len(self.batch_sampler)

    def __iter__(self) -> Iterator[Batch]:
        # iter() on the sampler now, in this thread: it reads and resets skip_batches.
        positions = iter(self.batch_sampler)
        batches = (self.split.gather(batch_positions) for batch_positions in positions)
        if self.split.resident:
            return batches
        return prefetched(batches, self.split.device)


def prefetched(host_batches: Iterator[Batch], device: torch.device) -> Iterator[Batch]:
    """Yield ``host_batches`` moved to ``device``, copied :data:`PREFETCH_DEPTH` ahead
    by a thread (on CUDA from page-locked memory on its own stream, overlapping the
    model's compute). Stopping early stops and joins the thread."""
    stream = torch.cuda.Stream(device) if device.type == "cuda" else None
    # Batches, then None at the end of the epoch, or the producer's exception.
    handoff: queue.Queue[Batch | Exception | None] = queue.Queue(PREFETCH_DEPTH)
    stop = threading.Event()

    def copy(images: torch.Tensor, labels: torch.Tensor) -> Batch:
        if stream is None:
            return images.to(device), labels.to(device)
        pinned = [
            torch.empty(host.shape, dtype=host.dtype, pin_memory=True).copy_(host)
            for host in (images, labels)
        ]
        with torch.cuda.device(device), torch.cuda.stream(stream):
            on_device = tuple(host.to(device, non_blocking=True) for host in pinned)
        # Waiting here (in the producer thread) keeps the consumer's stream free of
        # cross-stream waits; the pinned buffers return to the cache afterwards.
        stream.synchronize()
        return on_device

    def put(item: Batch | Exception | None) -> bool:
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
            put(None)
        except Exception as error:  # noqa: BLE001 - handed to the consumer, re-raised
            put(error)

    thread = threading.Thread(target=produce, name="ml-data-prefetch", daemon=True)
    thread.start()
    try:
        while (item := handoff.get()) is not None:
            if isinstance(item, Exception):
                raise item
            images, labels = item
            if stream is not None:
                # Allocated on the copy stream: keep the memory until the consumer's
                # stream is done with it.
                current = torch.cuda.current_stream(device)
                images.record_stream(current)
                labels.record_stream(current)
            yield images, labels
    finally:
        stop.set()
        thread.join()

"""``split_location: device``: each split one uint8 tensor, each batch gathered there.

Same sampler as the host loaders (drawn on the device), but a batch is two
``index_select`` calls on the device: uint8 (B, 3, 96, 96) images and long (B,) labels,
which the trainer converts (and normalises) where they already are. A split that does
not fit in free device memory (less :data:`DEVICE_HEADROOM_BYTES`) stays in host memory
and a background thread copies each gathered batch to the device.
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
from ml_core.data._outliers import kept_rows
from ml_core.data._sampler import EpochBatchSampler

# Device memory left free after the split is loaded: the CUDA context, the model, its
# optimizer state, activations and the other splits. Generous for the course models.
DEVICE_HEADROOM_BYTES = 2 * 1024**3
# Batches in flight ahead of the consumer: one computing, one or two copying.
DEFAULT_DEPTH = 2
_POLL_SECONDS = 0.1


def fits_on_device(
    nbytes: int,
    device: torch.device,
    *,
    memory_budget: int | None = None,
    headroom: int = DEVICE_HEADROOM_BYTES,
) -> bool:
    """Whether ``nbytes`` can live on ``device`` leaving ``headroom`` free.

    ``memory_budget`` replaces the device's free memory (tests use it to force the
    host fallback on any device). Without either, the device is host RAM: it fits.
    """
    if memory_budget is not None:
        available = memory_budget
    elif device.type == "cuda":
        available = int(torch.cuda.mem_get_info(device)[0])
    else:
        return True
    return nbytes + headroom <= available


@dataclass(frozen=True)
class DeviceSplit:
    """A loaded split: ``images`` and ``file_labels`` (every file row, on one device),
    ``indices`` (the file rows kept after ``filter_data``, on the target device) and
    ``labels`` (the kept rows' labels, for the sampler).

    ``resident``: the images live on the target device; False means they stay in host
    memory and batches are copied over (the fallback; on a CPU target, the same RAM).
    """

    images: torch.Tensor
    file_labels: torch.Tensor
    indices: torch.Tensor
    labels: np.ndarray
    device: torch.device
    resident: bool

    def __len__(self) -> int:
        return len(self.indices)

    def gather(self, positions: torch.Tensor) -> Batch:
        """Images and labels at ``positions`` (kept-sample positions), on the device
        that holds the images: one ``index_select`` each."""
        rows = self.indices.index_select(0, positions.to(self.indices.device))
        rows = rows.to(self.images.device)
        return self.images.index_select(0, rows), self.file_labels.index_select(0, rows)

    @classmethod
    def load(
        cls,
        split: SplitFiles,
        device: torch.device | str,
        *,
        filter_data: bool = False,
        memory_budget: int | None = None,
    ) -> DeviceSplit:
        """Read ``split`` into ``device`` memory if it fits, else into host memory."""
        device = torch.device(device)
        if device.type == "cuda" and device.index is None:  # cuda -> cuda:<current>
            device = torch.device("cuda", torch.cuda.current_device())
        kept = kept_rows(split, filter_data)
        nbytes = split.num_samples * math.prod(IMAGE_SHAPE)
        resident = fits_on_device(nbytes, device, memory_budget=memory_budget)
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
    """Iterable of ``(uint8 images, long labels)`` batches on ``split.device``.

    ``batch_sampler`` yields position tensors (the train sampler, or a fixed sequence);
    ``len()`` is the batches per full epoch.
    """

    def __init__(
        self,
        split: DeviceSplit,
        batch_sampler: EpochBatchSampler | Sequence[torch.Tensor],
    ) -> None:
        self.split = split
        self.batch_sampler = batch_sampler

    @property
    def resident(self) -> bool:
        """True when the split lives on the device (False: host with prefetch)."""
        return self.split.resident

    def __len__(self) -> int:
        return len(self.batch_sampler)

    def __iter__(self) -> Iterator[Batch]:
        # iter() on the sampler now, in this thread: it reads and resets skip_batches.
        positions = iter(self.batch_sampler)
        batches = (self.split.gather(batch_positions) for batch_positions in positions)
        if self.split.resident:
            return batches
        return prefetched(batches, self.split.device)


def pinned_like(tensor: torch.Tensor) -> torch.Tensor:
    """A page-locked copy of a host tensor (from torch's caching host allocator)."""
    return torch.empty(tensor.shape, dtype=tensor.dtype, pin_memory=True).copy_(tensor)


def prefetched(
    host_batches: Iterator[Batch], device: torch.device, depth: int = DEFAULT_DEPTH
) -> Iterator[Batch]:
    """Yield ``host_batches`` moved to ``device``, produced ``depth`` ahead by a thread.

    For a CUDA device the thread copies each batch from page-locked memory on its own
    stream, so the copies overlap the model's compute. Stopping early (``break``,
    garbage collection) stops and joins the thread.
    """
    if depth < 1:
        raise ValueError(f"prefetch depth must be >= 1, got {depth}")
    stream = torch.cuda.Stream(device) if device.type == "cuda" else None
    # Batches, then None at the end of the epoch, or the producer's exception.
    handoff: queue.Queue[Batch | Exception | None] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def copy(images: torch.Tensor, labels: torch.Tensor) -> Batch:
        if stream is None:
            return images.to(device), labels.to(device)
        images, labels = pinned_like(images), pinned_like(labels)
        with torch.cuda.device(device), torch.cuda.stream(stream):
            on_device = (
                images.to(device, non_blocking=True),
                labels.to(device, non_blocking=True),
            )
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

"""A placed split's batches, a whole batch per call: read from the h5 file or host RAM
(through DataLoader), or gathered in device memory (or host memory when the split does
not fit there, with a thread copying each batch over)."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import math
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ml_core.data._config import DataConfig
from ml_core.data._h5files import H5Images, SplitFiles, image_chunks
from ml_core.data._layout import IMAGE_SHAPE
from ml_core.data._pixels import kept_rows, to_uint8
from ml_core.data._sampler import EpochBatchSampler

Batch = tuple[torch.Tensor, torch.Tensor]
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 1 << 20
# Device memory left free after the split is loaded: the CUDA context, the model, its
# optimizer state, activations and the other splits. Generous for the course models.
DEVICE_HEADROOM_BYTES = 2 * 1024**3
# Batches in flight ahead of the consumer: one computing, one or two copying.
PREFETCH_DEPTH = 2
_POLL_SECONDS = 0.1


@functools.cache
def limit_heap_growth() -> bool:
    """Fix glibc's mmap threshold at 1 MiB, once per process; False where not glibc:
    its dynamic threshold let batch-sized buffers fragment the heap (+4 GB per pass)."""
    # The process's own symbols include libc's (find_library would run ldconfig).
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))


def load_planar(x_path: Path, num_samples: int, device: torch.device) -> torch.Tensor:
    """The whole image file as one cleaned (N, 3, 96, 96) uint8 tensor on ``device``,
    filled chunk by chunk (host memory stays constant), channel-first once."""
    height, width, channels = IMAGE_SHAPE
    shape = (num_samples, channels, height, width)
    on_cuda = device.type == "cuda"
    if on_cuda:
        out = torch.empty(shape, dtype=torch.uint8, device=device)
    else:
        # numpy asks for huge pages for large arrays and torch does not: the fill runs
        # about twice as fast (measured).
        out = torch.from_numpy(np.empty(shape, dtype=np.uint8))
    start = 0
    for rows in image_chunks(x_path):
        chunk = to_uint8(rows)
        stop = start + len(chunk)
        if on_cuda:
            # The GPU does the channel-first transpose, far faster than the host.
            on_device = torch.from_numpy(chunk).to(device)
            out[start:stop].copy_(on_device.permute(0, 3, 1, 2))
        else:
            out.numpy()[start:stop] = chunk.transpose(0, 3, 1, 2)
        start = stop
    return out


class PCAMBatches(Dataset):
    """A PCAM split whose ``__getitems__(positions)`` returns ``(images, labels)`` on the
    CPU; positions index the kept samples, read from RAM or from the file."""

    device = torch.device("cpu")  # where its batches come out

    def __init__(
        self, split: SplitFiles, config: DataConfig, *, uint8_batches: bool
    ) -> None:
        limit_heap_growth()
        self.split = split
        self.indices = kept_rows(split, config.filter_data)
        self.labels = split.labels[self.indices]
        self.uint8_batches = uint8_batches
        self._images = H5Images(split.x_path)
        self._in_ram = (
            load_planar(split.x_path, split.num_samples, self.device).numpy()
            if config.split_location == "ram"
            else None
        )

    def __len__(self) -> int:
        return len(self.indices)

    def __getitems__(self, positions: list[int]) -> Batch:
        file_indices = self.indices[np.asarray(positions, dtype=np.int64)]
        if self._in_ram is not None:
            planar = self._in_ram[file_indices]
        else:
            rows = to_uint8(self._images.read_many(file_indices))
            planar = rows.transpose(0, 3, 1, 2)
        labels = torch.from_numpy(self.split.labels[file_indices])
        if self.uint8_batches:
            return torch.from_numpy(np.ascontiguousarray(planar)), labels
        # One single-threaded numpy pass (torch's intra-op threads cost more than they
        # save on one batch); dividing by 255 in float32 matches ToTensor bit for bit.
        images = np.empty(planar.shape, dtype=np.float32)
        np.divide(planar, np.float32(255), out=images, dtype=np.float32)
        return torch.from_numpy(images), labels


@dataclass(frozen=True)
class DeviceSplit:
    """``images``/``file_labels`` of every file row (in host memory when not
    ``resident``), the kept rows' ``indices`` on ``device`` and ``labels``."""

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


@dataclass(frozen=True)
class DeviceLoader:
    """Iterable of ``(uint8 images, long labels)`` batches on ``split.device``, one per
    position tensor of ``batch_sampler``."""

    split: DeviceSplit
    batch_sampler: EpochBatchSampler | Sequence[torch.Tensor]

    @property
    def resident(self) -> bool:
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
        pinned = [host.pin_memory() for host in (images, labels)]
        with torch.cuda.device(device), torch.cuda.stream(stream):
            on_device = tuple(host.to(device, non_blocking=True) for host in pinned)
        # Waiting here (in the producer thread) keeps the consumer's stream free of
        # cross-stream waits; the pinned buffers return to the cache afterwards.
        stream.synchronize()
        return on_device

    def produce() -> None:
        try:
            for images, labels in host_batches:
                if stop.is_set():
                    return
                handoff.put(copy(images, labels))
            handoff.put(None)
        except Exception as error:  # noqa: BLE001 - handed to the consumer, re-raised
            handoff.put(error)

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
        while thread.is_alive():
            with contextlib.suppress(queue.Empty):
                handoff.get_nowait()  # frees a producer blocked on a full queue
            thread.join(_POLL_SECONDS)

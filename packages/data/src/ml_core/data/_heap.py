"""Keep glibc's heap from growing while batches stream through the process.

glibc serves blocks above its mmap threshold with ``mmap`` and returns them on free, but
after the first such free it raises the threshold to that size (up to 32 MB). Batch-sized
buffers (7-28 MB for 256 PCAM patches) then come from the heap, and mixing them with
torch's allocations fragments it: a full-size PCAM epoch grew the process by ~4 GB per
validation pass (measured). A fixed threshold keeps those buffers mmapped.
"""

from __future__ import annotations

import ctypes
import functools

_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 1 << 20


@functools.cache
def limit_heap_growth() -> bool:
    """Fix glibc's mmap threshold at 1 MiB, once per process; False where not glibc."""
    # The process's own symbols include libc's; ctypes.util.find_library would run
    # ldconfig in a subprocess to find the same library.
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))

"""Benchmark data of any size, written in constant memory.

Rendering synthetic patches costs ~0.5 ms each, minutes for the full 262,144-patch
train split, while loader throughput does not depend on the pixels. So a tile of at
most :data:`DISTINCT_PATCHES` patches is rendered once and repeated, chunk by chunk,
into a train file of the requested size (real PCAM's size: 7.2 GB of uint8).
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from ml_core.data.h5files import SCAN_CHUNK
from ml_core.data.layout import IMAGE_KEY, IMAGE_SHAPE, LABEL_KEY, split_paths
from ml_core.data.synthetic import METADATA_NAME, write_synthetic_pcam

DISTINCT_PATCHES = 8192
_EVAL_SAMPLES = 64


def write_bench_pcam(out_dir: Path, n_samples: int, *, seed: int = 0) -> Path:
    """A PCAM directory in ``out_dir`` whose train split has ``n_samples`` patches.

    Up to :data:`DISTINCT_PATCHES` distinct synthetic patches (and their labels) repeat
    through the train split; valid and test are small. Host memory stays at one tile
    plus one chunk whatever ``n_samples`` is.
    """
    if n_samples <= DISTINCT_PATCHES:
        return write_synthetic_pcam(
            out_dir,
            n_train=n_samples,
            n_valid=_EVAL_SAMPLES,
            n_test=_EVAL_SAMPLES,
            seed=seed,
        )
    tile_dir = write_synthetic_pcam(
        out_dir,
        n_train=DISTINCT_PATCHES,
        n_valid=_EVAL_SAMPLES,
        n_test=_EVAL_SAMPLES,
        seed=seed,
    )
    tile_x, tile_y = split_paths(tile_dir, "train")
    with h5py.File(tile_x, "r") as file:
        tile_images = file[IMAGE_KEY][()]
    with h5py.File(tile_y, "r") as file:
        tile_labels = file[LABEL_KEY][()].reshape(-1)
    # Its metadata describes the tile, not the file that replaces it.
    for stale in (tile_x, tile_y, tile_dir / METADATA_NAME):
        stale.unlink()
    _write_repeated(tile_dir, tile_images, tile_labels, n_samples)
    return tile_dir


def _write_repeated(
    data_dir: Path, tile_images: np.ndarray, tile_labels: np.ndarray, n_samples: int
) -> None:
    x_path, y_path = split_paths(data_dir, "train")
    rows = np.arange(n_samples) % len(tile_images)
    with h5py.File(x_path, "w") as file:
        images = file.create_dataset(
            IMAGE_KEY, shape=(n_samples, *IMAGE_SHAPE), dtype=np.uint8
        )
        for start in range(0, n_samples, SCAN_CHUNK):
            stop = min(start + SCAN_CHUNK, n_samples)
            images[start:stop] = tile_images[rows[start:stop]]
    with h5py.File(y_path, "w") as file:
        file.create_dataset(LABEL_KEY, data=tile_labels[rows].reshape(-1, 1, 1, 1))

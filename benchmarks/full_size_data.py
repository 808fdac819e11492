"""PCAM at its official sizes (262,144 / 32,768 / 32,768), written in constant memory.

Each split is four blocks of 4,096 distinct patches, every block written again and again
in a fresh random order until the split is full. A patch is PCAM's pink stroma, RGB
(220, 160, 190) plus Gaussian pixel noise (sigma 18); half of each block is positive, with
a dark purple disc, RGB (90, 40, 120) +- 10, radius 5-10 px, centred in [36, 60)^2 (PCAM's
rule: tumour in the centre 32 x 32 px). Patch 1 is black and patch 2 white, the outliers
of the course's copy. Distinct seeds per split: validation never repeats a train patch.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from ml_core.data import SPLITS, split_paths

FULL_SIZES = {"train": 262_144, "valid": 32_768, "test": 32_768}
BLOCK_PATCHES = 4096
BLOCKS = 4
BACKGROUND = np.array([220, 160, 190], dtype=np.float32)
NOISE_SIGMA = 18.0
DISC = np.array([90, 40, 120], dtype=np.float32)
DISC_JITTER = 10
RADIUS_RANGE = (5, 11)  # 5..10 px
CENTRE_RANGE = (36, 60)
SIDE = 96


def render_block(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``BLOCK_PATCHES`` patches (N, 96, 96, 3) uint8 and their labels (half positive)."""
    labels = rng.permutation(np.arange(BLOCK_PATCHES) % 2).astype(np.uint8)
    images = np.empty((BLOCK_PATCHES, SIDE, SIDE, 3), dtype=np.uint8)
    rows, cols = np.mgrid[0:SIDE, 0:SIDE]
    for index in range(BLOCK_PATCHES):
        noise = rng.standard_normal((SIDE, SIDE, 3), dtype=np.float32) * NOISE_SIGMA
        patch = BACKGROUND + noise
        if labels[index]:
            centre = rng.integers(*CENTRE_RANGE, size=2)
            radius = rng.integers(*RADIUS_RANGE)
            inside = (rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 <= radius**2
            colour = DISC + rng.integers(-DISC_JITTER, DISC_JITTER + 1, size=3)
            patch[inside] = colour + noise[inside]
        images[index] = np.clip(patch, 0, 255)
    return images, labels


def write_full_size_pcam(out_dir: Path, *, seed: int = 0) -> Path:
    """The six official files in ``out_dir`` (about 9 GB); one block in RAM at a time."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for split_number, split in enumerate(SPLITS):
        _write_split(out_dir, split, FULL_SIZES[split], seed * 10 + split_number)
    return out_dir


def _write_split(out_dir: Path, split: str, size: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    blocks = [render_block(rng) for _ in range(BLOCKS)]
    x_path, y_path = split_paths(out_dir, split)
    labels = np.empty(size, dtype=np.uint8)
    with h5py.File(x_path, "w") as file:
        images = file.create_dataset("x", shape=(size, SIDE, SIDE, 3), dtype=np.uint8)
        for start in range(0, size, BLOCK_PATCHES):
            block_images, block_labels = blocks[(start // BLOCK_PATCHES) % BLOCKS]
            order = rng.permutation(BLOCK_PATCHES)[: size - start]
            chunk = block_images[order]
            if start == 0:
                chunk[1], chunk[2] = 0, 255
            images[start : start + len(order)] = chunk
            labels[start : start + len(order)] = block_labels[order]
    with h5py.File(y_path, "w") as file:
        file.create_dataset("y", data=labels.reshape(-1, 1, 1, 1))

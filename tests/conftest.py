"""Shared fixtures for every member: small real PCAM H5 files and an isolated cache.

- ``write_pcam_split(data_dir, split, images, labels)`` (also the fixture
  ``make_pcam_split``) writes one split's two official files from arrays (any dtype and
  shape, so tests can build broken files too).
- ``tiny_pcam_dir``: a small synthetic PCAM directory (session-wide, treat as read-only).
- ``synthetic_pcam_dir``: the built-in default synthetic dataset, generated once per
  session into the session cache.
- The whole session uses a temporary ``ML_CORE_CACHE``, never the user's cache.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import h5py
import numpy as np
import pytest

from ml_core.data import ensure_synthetic_pcam, split_paths, write_synthetic_pcam

WriteSplit = Callable[..., tuple[Path, Path]]


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point ``ML_CORE_CACHE`` at a session temp dir (tests may monkeypatch it again)."""
    cache = tmp_path_factory.mktemp("ml_core_cache")
    previous = os.environ.get("ML_CORE_CACHE")
    os.environ["ML_CORE_CACHE"] = str(cache)
    yield cache
    if previous is None:
        os.environ.pop("ML_CORE_CACHE", None)
    else:
        os.environ["ML_CORE_CACHE"] = previous


def random_patches(count: int, seed: int = 0, dtype: type = np.uint8) -> np.ndarray:
    """``count`` random (96, 96, 3) patches with values in 1..254 (never all 0/255)."""
    rng = np.random.default_rng(seed)
    return rng.integers(1, 255, size=(count, 96, 96, 3)).astype(dtype)


def write_pcam_split(
    data_dir: Path,
    split: str,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    raw_labels: bool = False,
    image_key: str = "x",
    label_key: str = "y",
    chunks: tuple[int, ...] | None = None,
) -> tuple[Path, Path]:
    """Write ``images`` as key ``x`` and ``labels`` as key ``y`` (reshaped to (N,1,1,1)
    unless ``raw_labels``) under the official names; returns both paths. Any dtype and
    shape, so tests can build broken files too; ``chunks`` makes ``x`` chunked."""
    data_dir.mkdir(parents=True, exist_ok=True)
    x_path, y_path = split_paths(data_dir, split)
    labels = np.asarray(labels)
    with h5py.File(x_path, "w") as file:
        file.create_dataset(image_key, data=images, chunks=chunks)
    with h5py.File(y_path, "w") as file:
        file.create_dataset(
            label_key, data=labels if raw_labels else labels.reshape(-1, 1, 1, 1)
        )
    return x_path, y_path


@pytest.fixture
def make_pcam_split() -> WriteSplit:
    """:func:`write_pcam_split` as a fixture."""
    return write_pcam_split


@pytest.fixture
def patches() -> Callable[..., np.ndarray]:
    """``patches(count, seed=0, dtype=np.uint8)``: random non-outlier patches."""
    return random_patches


@pytest.fixture(scope="session")
def tiny_pcam_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthetic PCAM with 96/48/48 samples (seed 0), shared by the session."""
    out = tmp_path_factory.mktemp("tiny_pcam") / "pcam"
    return write_synthetic_pcam(out, n_train=96, n_valid=48, n_test=48, seed=0)


@pytest.fixture(scope="session")
def synthetic_pcam_dir() -> Path:
    """The built-in synthetic PCAM at default sizes (generated once per session)."""
    return ensure_synthetic_pcam()

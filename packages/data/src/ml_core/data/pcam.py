"""The course's per-sample dataset over a pair of PCAM H5 files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch
from torch.utils.data import Dataset

from ml_core.data._h5files import H5Images, SplitFiles
from ml_core.data._outliers import kept_indices
from ml_core.data._pixels import to_uint8

__all__ = ["PCAMDataset"]


class PCAMDataset(Dataset):
    """``ds[i] -> (image, label)`` over ``x_path``/``y_path`` (course API).

    The course skeleton's attributes: ``x_path``, ``y_path``, ``transform``,
    ``indices``, and ``x_data``/``y_data`` shaped like the files' ``x`` (N, 96, 96, 3)
    and ``y`` (N, 1, 1, 1). ``x_data`` is the h5py dataset, opened lazily in the process
    that reads it (nothing is loaded); ``y_data`` is the labels, already validated and
    in RAM (2 MB for the real train split), so ``ds.y_data[:]`` is free.

    Pixels: NaN -> 0, clip to [0, 255], uint8. ``transform`` receives the HWC uint8
    array; without one the image is a (3, 96, 96) float32 tensor in 0..255. The label is
    a 0-dim ``torch.long``. ``filter_data=True`` drops blackout (mean 0) and washout
    (mean 255) patches: ``indices`` holds the kept file indices.
    """

    def __init__(
        self,
        x_path: Path | str,
        y_path: Path | str,
        transform: Callable[[np.ndarray], Any] | None = None,
        filter_data: bool = False,
    ) -> None:
        self.split = SplitFiles.open(x_path, y_path)
        self.transform = transform
        self.filter_data = filter_data
        self.indices = (
            kept_indices(self.split.x_path)
            if filter_data
            else np.arange(self.split.num_samples)
        )
        self._images = H5Images(self.split.x_path)

    @property
    def x_path(self) -> Path:
        return self.split.x_path

    @property
    def y_path(self) -> Path:
        return self.split.y_path

    @property
    def x_data(self) -> h5py.Dataset:
        return self._images.dataset

    @property
    def y_data(self) -> np.ndarray:
        labels = self.split.labels.reshape(-1, 1, 1, 1)
        labels.flags.writeable = False
        return labels

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def labels(self) -> np.ndarray:
        """Labels of the kept samples, in dataset order (int64)."""
        return self.split.labels[self.indices]

    def __getitem__(self, index: int) -> tuple[Any, torch.Tensor]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} samples")
        file_index = int(self.indices[index])
        image = to_uint8(self._images.read_one(file_index))
        label = torch.tensor(self.split.labels[file_index], dtype=torch.long)
        if self.transform is not None:
            return self.transform(image), label
        chw = np.ascontiguousarray(image.transpose(2, 0, 1))
        return torch.from_numpy(chw).to(torch.float32), label

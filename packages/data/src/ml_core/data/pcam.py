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
from ml_core.data._pixels import kept_rows, to_uint8

__all__ = ["PCAMDataset"]


class PCAMDataset(Dataset):
    """``ds[i] -> (image, label)`` (course API): ``transform`` gets the cleaned HWC uint8
    image, else it is a (3, 96, 96) float32 tensor in 0..255; ``x_data`` opens lazily in
    the reading process, ``y_data`` is in RAM; ``filter_data`` drops outlier patches."""

    def __init__(
        self,
        x_path: Path | str,
        y_path: Path | str,
        transform: Callable[[np.ndarray], Any] | None = None,
        filter_data: bool = False,
    ) -> None:
        self.split = SplitFiles.open(x_path, y_path)
        self.x_path = self.split.x_path
        self.y_path = self.split.y_path
        self.transform = transform
        self.filter_data = filter_data
        self.indices = kept_rows(self.split, filter_data)
        self._images = H5Images(self.x_path)

    @property
    def x_data(self) -> h5py.Dataset:
        return self._images.dataset

    @property
    def y_data(self) -> np.ndarray:
        labels = self.split.labels.reshape(-1, 1, 1, 1)
        labels.flags.writeable = False
        return labels

    @property
    def labels(self) -> np.ndarray:
        """Labels of the kept samples, in dataset order (int64)."""
        return self.split.labels[self.indices]

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> tuple[Any, torch.Tensor]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} samples")
        file_index = self.indices[index]
        image = to_uint8(self._images.read_many(np.array([file_index])))[0]
        label = torch.tensor(self.split.labels[file_index], dtype=torch.long)
        if self.transform is not None:
            return self.transform(image), label
        chw = np.ascontiguousarray(image.transpose(2, 0, 1))
        return torch.from_numpy(chw).to(torch.float32), label

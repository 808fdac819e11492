"""PCAM data: datasets, fast balanced loaders, synthetic PCAM, download and checks.

Names are imported on first access (PEP 562), so ``ml-data check|fetch|synth`` and
other torch-free uses start without paying for importing torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ml_core.data.batches import PCAMBatches
    from ml_core.data.cache import cache_dir, dataset_fingerprint, file_fingerprint
    from ml_core.data.check import DatasetReport, SplitReport, check_dataset
    from ml_core.data.device_loader import (
        DeviceBatchSampler,
        DeviceDistributedBatchSampler,
        DeviceLoader,
        get_device_dataloaders,
        get_device_split_loader,
    )
    from ml_core.data.device_split import DEVICE_HEADROOM_BYTES
    from ml_core.data.distributed_sampler import DistributedBatchSampler, RankShare
    from ml_core.data.errors import DataConfigError, DataError
    from ml_core.data.fetch import FetchError, FetchSettings, fetch_pcam
    from ml_core.data.layout import SPLITS, has_split, split_file_name, split_paths
    from ml_core.data.loader import (
        get_dataloaders,
        get_split_loader,
        get_test_loader,
        resumable_sampler,
        split_channel_statistics,
    )
    from ml_core.data.options import DataOptions
    from ml_core.data.pcam import PCAMDataset
    from ml_core.data.sampler import ResumableBatchSampler
    from ml_core.data.synthetic import (
        DEFAULT_SYNTHETIC_SIZES,
        ensure_synthetic_pcam,
        read_synthetic_metadata,
        write_synthetic_pcam,
    )

_HOMES = {
    "PCAMBatches": "batches",
    "cache_dir": "cache",
    "dataset_fingerprint": "cache",
    "file_fingerprint": "cache",
    "DatasetReport": "check",
    "SplitReport": "check",
    "check_dataset": "check",
    "PCAMDataset": "pcam",
    "DistributedBatchSampler": "distributed_sampler",
    "RankShare": "distributed_sampler",
    "DeviceBatchSampler": "device_loader",
    "DeviceDistributedBatchSampler": "device_loader",
    "DeviceLoader": "device_loader",
    "get_device_dataloaders": "device_loader",
    "get_device_split_loader": "device_loader",
    "DEVICE_HEADROOM_BYTES": "device_split",
    "DataConfigError": "errors",
    "DataError": "errors",
    "FetchError": "fetch",
    "FetchSettings": "fetch",
    "fetch_pcam": "fetch",
    "SPLITS": "layout",
    "has_split": "layout",
    "split_file_name": "layout",
    "split_paths": "layout",
    "get_dataloaders": "loader",
    "get_split_loader": "loader",
    "get_test_loader": "loader",
    "resumable_sampler": "loader",
    "split_channel_statistics": "loader",
    "DataOptions": "options",
    "ResumableBatchSampler": "sampler",
    "DEFAULT_SYNTHETIC_SIZES": "synthetic",
    "ensure_synthetic_pcam": "synthetic",
    "read_synthetic_metadata": "synthetic",
    "write_synthetic_pcam": "synthetic",
}

__all__ = [
    "DEFAULT_SYNTHETIC_SIZES",
    "DEVICE_HEADROOM_BYTES",
    "SPLITS",
    "DataConfigError",
    "DataError",
    "DataOptions",
    "DatasetReport",
    "DeviceBatchSampler",
    "DeviceDistributedBatchSampler",
    "DeviceLoader",
    "DistributedBatchSampler",
    "FetchError",
    "FetchSettings",
    "PCAMBatches",
    "PCAMDataset",
    "RankShare",
    "ResumableBatchSampler",
    "SplitReport",
    "cache_dir",
    "check_dataset",
    "dataset_fingerprint",
    "ensure_synthetic_pcam",
    "fetch_pcam",
    "file_fingerprint",
    "get_dataloaders",
    "get_device_dataloaders",
    "get_device_split_loader",
    "get_split_loader",
    "get_test_loader",
    "has_split",
    "read_synthetic_metadata",
    "resumable_sampler",
    "split_channel_statistics",
    "split_file_name",
    "split_paths",
    "write_synthetic_pcam",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'ml_core.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"ml_core.data.{_HOMES[name]}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

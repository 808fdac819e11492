"""PCAM data: datasets, fast balanced loaders, synthetic PCAM, download and checks."""

from ml_core.data.batches import PCAMBatches
from ml_core.data.cache import cache_dir, dataset_fingerprint, file_fingerprint
from ml_core.data.dataset import PCAMDataset
from ml_core.data.errors import DataConfigError, DataError
from ml_core.data.layout import SPLITS, has_split, split_file_name, split_paths
from ml_core.data.loaders import (
    get_dataloaders,
    get_split_loader,
    get_test_loader,
    resumable_sampler,
)
from ml_core.data.options import DataOptions
from ml_core.data.sampler import ResumableBatchSampler
from ml_core.data.synthetic import (
    DEFAULT_SYNTHETIC_SIZES,
    ensure_synthetic_pcam,
    read_synthetic_metadata,
    write_synthetic_pcam,
)

__all__ = [
    "DEFAULT_SYNTHETIC_SIZES",
    "SPLITS",
    "DataConfigError",
    "DataError",
    "DataOptions",
    "PCAMBatches",
    "PCAMDataset",
    "ResumableBatchSampler",
    "cache_dir",
    "dataset_fingerprint",
    "ensure_synthetic_pcam",
    "file_fingerprint",
    "get_dataloaders",
    "get_split_loader",
    "get_test_loader",
    "has_split",
    "read_synthetic_metadata",
    "resumable_sampler",
    "split_file_name",
    "split_paths",
    "write_synthetic_pcam",
]

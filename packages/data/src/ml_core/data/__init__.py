"""PCAM data: the typed data config, fast balanced loaders, synthetic PCAM, checks (the
course's modules: ``ml_core.data.loader`` and ``ml_core.data.pcam``)."""

from ml_core.data._batches import DEVICE_HEADROOM_BYTES
from ml_core.data._cache import cache_dir, dataset_fingerprint
from ml_core.data._check import check_dataset
from ml_core.data._config import DataConfig, read_data_section
from ml_core.data._errors import DataError
from ml_core.data._fetch import FetchError, FetchSettings, fetch_pcam
from ml_core.data._h5files import H5Images, SplitFiles, image_chunks
from ml_core.data._layout import SPLITS, has_split, official_file_names, split_paths
from ml_core.data._pixels import (
    blackout_washout,
    outlier_masks,
    split_channel_statistics,
    to_uint8,
)
from ml_core.data._sampler import EpochBatchSampler
from ml_core.data._synthetic import (
    DEFAULT_SYNTHETIC_SIZES,
    ensure_synthetic_pcam,
    read_synthetic_metadata,
    write_synthetic_pcam,
)
from ml_core.data.loader import (
    get_dataloaders,
    get_split_loader,
    get_test_loader,
    make_loaders,
    make_split_loader,
    read_data_config,
    resumable_sampler,
)
from ml_core.data.pcam import PCAMDataset

__all__ = [
    "DEFAULT_SYNTHETIC_SIZES",
    "DEVICE_HEADROOM_BYTES",
    "SPLITS",
    "DataConfig",
    "DataError",
    "EpochBatchSampler",
    "FetchError",
    "FetchSettings",
    "H5Images",
    "PCAMDataset",
    "SplitFiles",
    "blackout_washout",
    "cache_dir",
    "check_dataset",
    "dataset_fingerprint",
    "ensure_synthetic_pcam",
    "fetch_pcam",
    "get_dataloaders",
    "get_split_loader",
    "get_test_loader",
    "has_split",
    "image_chunks",
    "make_loaders",
    "make_split_loader",
    "official_file_names",
    "outlier_masks",
    "read_data_config",
    "read_data_section",
    "read_synthetic_metadata",
    "resumable_sampler",
    "split_channel_statistics",
    "split_paths",
    "to_uint8",
    "write_synthetic_pcam",
]

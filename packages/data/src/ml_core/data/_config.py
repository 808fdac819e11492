"""The ``data:`` section, parsed and validated once into :class:`DataConfig`: the
trainer's YAML and the course's ``get_dataloaders(dict)`` both come through
:func:`read_data_section`, so a key means the same thing everywhere."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ml_core.contract import SectionReader
from ml_core.data._synthetic import ensure_synthetic_pcam

DATASET_TYPES = ("synthetic", "pcam")
SPLIT_LOCATIONS = ("disk", "ram", "device")
PCAM_INPUT_SHAPE = (3, 96, 96)
# Beyond any node's core count: more workers only add processes that wait.
MAX_NUM_WORKERS = 128


@dataclass(frozen=True)
class DataConfig:
    """Where the patches come from, where a split lives (``disk``, ``ram`` or
    ``device``), and how batches are drawn."""

    dataset_type: str = "synthetic"
    data_path: Path | None = None
    batch_size: int = 64
    num_workers: int = 0
    split_location: str = "ram"
    filter_data: bool = False
    balance: bool = True
    normalize: bool = True
    input_shape: ClassVar[tuple[int, int, int]] = PCAM_INPUT_SHAPE

    def directory(self) -> Path:
        """``data_path``, or the built-in synthetic PCAM (generated on first use)."""
        if self.data_path is not None:
            return self.data_path
        return ensure_synthetic_pcam()


def read_data_section(section: SectionReader) -> DataConfig:
    """The validated ``data:`` section (ConfigError naming the key otherwise)."""
    data_path = section.text("data_path", None, optional=True)
    default_type = "pcam" if data_path is not None else "synthetic"
    dataset_type = section.choice("dataset_type", default_type, DATASET_TYPES)
    if dataset_type == "pcam" and data_path is None:
        section.fail("data_path", "required when data.dataset_type is 'pcam'")
    path = None
    if data_path is not None:
        path = Path(data_path).expanduser().resolve()
        if not path.is_dir():
            section.fail("data_path", f"directory {data_path} does not exist")
    shape = section.integers("input_shape", PCAM_INPUT_SHAPE)
    if shape != PCAM_INPUT_SHAPE:
        section.fail("input_shape", f"PCAM patches are [3, 96, 96], got {list(shape)}")
    config = DataConfig(
        dataset_type=dataset_type,
        data_path=path,
        batch_size=section.integer("batch_size", DataConfig.batch_size, minimum=1),
        num_workers=section.integer(
            "num_workers", DataConfig.num_workers, minimum=0, maximum=MAX_NUM_WORKERS
        ),
        split_location=_split_location(section, dataset_type),
        filter_data=section.boolean("filter_data", default=DataConfig.filter_data),
        balance=section.boolean("balance", default=DataConfig.balance),
        normalize=section.boolean("normalize", default=DataConfig.normalize),
    )
    # Accepted and ignored: host batches are pinned whenever they go to a CUDA device.
    section.boolean("pin_memory", default=False)
    section.finish()
    return config


def read_data_config(data: Mapping[str, Any]) -> DataConfig:
    """A course-style ``data`` dict as :class:`DataConfig` (ConfigError if invalid)."""
    return read_data_section(SectionReader(data, "data."))


def _split_location(section: SectionReader, dataset_type: str) -> str:
    """``split_location``, or what the old aliases say: ``in_memory: true`` is ``ram``
    (``false``: ``disk``), ``device_resident: true`` is ``device``."""
    in_memory = section.take("in_memory", None)
    device_resident = section.boolean("device_resident", default=False)
    implied = "device" if device_resident else None
    if in_memory is not None:
        if not isinstance(in_memory, bool):
            section.fail("in_memory", f"expected true or false, got {in_memory!r}")
        implied = implied or ("ram" if in_memory else "disk")
    # The built-in data is small; real PCAM's train split is 7.2 GB.
    default = implied or ("ram" if dataset_type == "synthetic" else "disk")
    location = section.choice("split_location", default, SPLIT_LOCATIONS)
    if implied is not None and implied != location:
        section.fail(
            "split_location",
            f"{location!r} contradicts in_memory/device_resident ({implied!r})",
        )
    return location

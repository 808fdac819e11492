"""The official PCAM file layout: split names and the six H5 file names."""

from __future__ import annotations

from pathlib import Path

SPLITS = ("train", "valid", "test")
IMAGE_KEY = "x"
LABEL_KEY = "y"
IMAGE_SHAPE = (96, 96, 3)


def split_paths(data_dir: Path | str, split: str) -> tuple[Path, Path]:
    """(images path, labels path) of ``split`` in ``data_dir``: the official names,
    e.g. ``camelyonpatch_level_2_split_train_x.h5``."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r} (expected one of {SPLITS})")
    root = Path(data_dir)
    name = f"camelyonpatch_level_2_split_{split}"
    return root / f"{name}_{IMAGE_KEY}.h5", root / f"{name}_{LABEL_KEY}.h5"


def official_file_names() -> list[str]:
    """The six official file names, split by split, images before labels."""
    return [path.name for split in SPLITS for path in split_paths("", split)]


def has_split(data_dir: Path | str, split: str) -> bool:
    """True when both files of ``split`` exist in ``data_dir``."""
    return all(path.is_file() for path in split_paths(data_dir, split))

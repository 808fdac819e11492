"""The official PCAM file layout: split names and the six H5 file names."""

from __future__ import annotations

from pathlib import Path

SPLITS = ("train", "valid", "test")
IMAGE_KEY = "x"
LABEL_KEY = "y"
IMAGE_SHAPE = (96, 96, 3)


def split_file_name(split: str, key: str) -> str:
    """Official file name, e.g. ``camelyonpatch_level_2_split_train_x.h5``."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r} (expected one of {SPLITS})")
    if key not in (IMAGE_KEY, LABEL_KEY):
        raise ValueError(f"unknown key {key!r} (expected 'x' or 'y')")
    return f"camelyonpatch_level_2_split_{split}_{key}.h5"


def official_file_names() -> list[str]:
    """The six official file names, split by split, images before labels."""
    return [split_file_name(s, k) for s in SPLITS for k in (IMAGE_KEY, LABEL_KEY)]


def split_paths(data_dir: Path | str, split: str) -> tuple[Path, Path]:
    """(images path, labels path) of ``split`` inside ``data_dir``."""
    root = Path(data_dir)
    return (
        root / split_file_name(split, IMAGE_KEY),
        root / split_file_name(split, LABEL_KEY),
    )


def has_split(data_dir: Path | str, split: str) -> bool:
    """True when both files of ``split`` exist in ``data_dir``."""
    return all(path.is_file() for path in split_paths(data_dir, split))

"""Validate a PCAM directory before GPU time is spent on it: files, keys, shapes,
dtypes, lengths, labels, class counts, poisoned pixels and blackout/washout patches."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ml_core.data._errors import DataError
from ml_core.data._h5files import SplitFiles, image_chunks
from ml_core.data._layout import SPLITS, split_paths
from ml_core.data._pixels import blackout_washout, to_uint8

# Training and validation are needed to train; the test split only for final evaluation.
REQUIRED_SPLITS = ("train", "valid")


@dataclass
class SplitReport:
    """What :func:`check_dataset` found in one split (images counted, not pixels)."""

    split: str
    present: bool
    num_samples: int = 0
    image_dtype: str = ""
    negatives: int = 0
    positives: int = 0
    nan_images: int = 0
    inf_images: int = 0
    out_of_range_images: int = 0
    blackout: int = 0
    washout: int = 0


@dataclass
class DatasetReport:
    """Per-split findings plus the problems that make the directory unusable."""

    data_dir: Path
    splits: dict[str, SplitReport] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the directory can be trained on."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: the fields (split reports as dicts), then ``ok``."""
        return {**asdict(self), "data_dir": str(self.data_dir), "ok": self.ok}


def check_dataset(data_dir: Path | str) -> DatasetReport:
    """Inspect every split of ``data_dir``; never raises for bad data, reports it."""
    report = DatasetReport(Path(data_dir))
    if not report.data_dir.is_dir():
        report.problems.append(f"{report.data_dir}: data directory not found")
        return report
    for split in SPLITS:
        report.splits[split] = _check_split(report, split)
    return report


def _check_split(report: DatasetReport, split: str) -> SplitReport:
    x_path, y_path = split_paths(report.data_dir, split)
    if not x_path.exists() and not y_path.exists():
        message = f"{report.data_dir}: split {split!r} missing ({x_path.name})"
        if split in REQUIRED_SPLITS:
            report.problems.append(message)
        else:
            report.notes.append(f"{message}; evaluation on it will fail")
        return SplitReport(split, present=False)
    try:
        files = SplitFiles.open(x_path, y_path)
        result = SplitReport(
            split,
            present=True,
            num_samples=files.num_samples,
            image_dtype=str(files.image_dtype),
            negatives=int((files.labels == 0).sum()),
            positives=int((files.labels == 1).sum()),
        )
        _scan_pixels(x_path, result)
    except DataError as error:
        report.problems.append(str(error))
        return SplitReport(split, present=True)
    return result


def _scan_pixels(x_path: Path, result: SplitReport) -> None:
    """Count poisoned and blank images chunk by chunk (constant memory)."""
    axes = (1, 2, 3)
    for raw in image_chunks(x_path):
        if raw.dtype.kind == "f":
            result.nan_images += int(np.isnan(raw).any(axis=axes).sum())
            result.inf_images += int(np.isinf(raw).any(axis=axes).sum())
        if raw.dtype != np.uint8:
            finite = np.where(np.isfinite(raw), raw, 0)
            outside = (finite < 0) | (finite > 255)
            result.out_of_range_images += int(outside.any(axis=axes).sum())
        blackout, washout = blackout_washout(to_uint8(raw))
        result.blackout += int(blackout.sum())
        result.washout += int(washout.sum())


def format_report(report: DatasetReport) -> str:
    """A readable table: one row per split, then the notes and the verdict."""
    columns = (
        ("split", "split"),
        ("samples", "num_samples"),
        ("dtype", "image_dtype"),
        ("neg", "negatives"),
        ("pos", "positives"),
        ("NaN", "nan_images"),
        ("inf", "inf_images"),
        ("<0/>255", "out_of_range_images"),
        ("black", "blackout"),
        ("white", "washout"),
    )
    rows = [[title for title, _ in columns]]
    for split_report in report.splits.values():
        if split_report.present:
            rows.append([str(getattr(split_report, key)) for _, key in columns])
        else:
            rows.append([split_report.split, "missing"] + [""] * (len(columns) - 2))
    widths = [max(map(len, column)) for column in zip(*rows, strict=True)]
    lines = [f"PCAM directory {report.data_dir}"]
    for row in rows:
        cells = zip(row, widths, strict=True)
        lines.append("  ".join(cell.ljust(width) for cell, width in cells))
    lines += [f"note: {note}" for note in report.notes]
    lines.append(
        "usable" if report.ok else f"NOT usable: {len(report.problems)} problem(s)"
    )
    return "\n".join(line.rstrip() for line in lines)

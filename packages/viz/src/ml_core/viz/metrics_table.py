"""Read a run's ``metrics.csv`` (one row per finished epoch) into numeric columns.

The file may belong to a run that is still going: any number of complete rows is fine.
Everything else that is wrong with it raises :class:`VizInputError` naming the file.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ml_core.viz.errors import VizInputError

METRICS_FILE = "metrics.csv"
# The columns the curves need, in the trainer's order; the timing columns are optional.
PLOTTED_COLUMNS = (
    "train_loss",
    "train_acc",
    "train_f1",
    "train_auroc",
    "val_loss",
    "val_acc",
    "val_f1",
    "val_auroc",
    "lr",
)


@dataclass(frozen=True)
class MetricsTable:
    """The numbers of one metrics file: 1-based epochs and one array per column."""

    source: Path
    epochs: np.ndarray
    columns: dict[str, np.ndarray]
    # The trainer's collapse warnings (column ``warning``), by epoch.
    warnings: dict[int, str] = field(default_factory=dict)


def read_csv_rows(
    path: Path, needed: Sequence[str]
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line number, fields) rows of a CSV with the ``needed`` columns."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise VizInputError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise VizInputError(f"{path}: cannot read ({error})") from None
    if not text.strip():
        raise VizInputError(f"{path}: empty file")
    try:
        lines = list(csv.reader(text.splitlines()))
    except csv.Error as error:
        raise VizInputError(f"{path}: malformed CSV ({error})") from None
    header = [name.strip() for name in lines[0]]
    require_columns(path, header, needed)
    rows = []
    for line_number, fields in enumerate(lines[1:], start=2):
        if not fields:
            continue
        if len(fields) != len(header):
            raise VizInputError(
                f"{path} line {line_number}: {len(fields)} fields, "
                f"the header has {len(header)}"
            )
        rows.append((line_number, fields))
    if not rows:
        raise VizInputError(f"{path}: no data rows, only a header")
    return header, rows


def require_columns(path: Path, header: Sequence[str], needed: Sequence[str]) -> None:
    """Raise naming every needed column the header lacks."""
    missing = [name for name in needed if name not in header]
    if missing:
        raise VizInputError(f"{path}: missing column(s) {', '.join(missing)}")


def parse_number(path: Path, line_number: int, column: str, value: str) -> float:
    """A float from a CSV cell; ``nan`` is allowed (e.g. AUROC of a one-class batch)."""
    try:
        return float(value)
    except ValueError:
        raise VizInputError(
            f"{path} line {line_number}, column {column}: {value!r} is not a number"
        ) from None


def parse_epochs(
    path: Path, rows: list[tuple[int, list[str]]], index: int
) -> np.ndarray:
    """The epoch column: positive integers, strictly increasing."""
    epochs = []
    for line_number, fields in rows:
        value = parse_number(path, line_number, "epoch", fields[index])
        if not math.isfinite(value) or value != int(value) or value < 1:
            raise VizInputError(
                f"{path} line {line_number}, column epoch: {fields[index]!r} "
                "is not a positive whole number"
            )
        if epochs and value <= epochs[-1]:
            raise VizInputError(
                f"{path} line {line_number}: epoch {int(value)} does not follow "
                f"epoch {int(epochs[-1])}"
            )
        epochs.append(value)
    return np.asarray(epochs, dtype=np.int64)


def read_metrics_csv(path: Path) -> MetricsTable:
    """Parse a trainer ``metrics.csv``; raise :class:`VizInputError` on any defect."""
    header, rows = read_csv_rows(path, ("epoch", *PLOTTED_COLUMNS))
    epochs = parse_epochs(path, rows, header.index("epoch"))
    columns = {}
    for name in PLOTTED_COLUMNS:
        index = header.index(name)
        columns[name] = np.asarray(
            [parse_number(path, line, name, fields[index]) for line, fields in rows],
            dtype=np.float64,
        )
    warnings = {}
    if "warning" in header:
        index = header.index("warning")
        warnings = {
            int(epoch): fields[index]
            for epoch, (_, fields) in zip(epochs, rows, strict=True)
            if fields[index].strip()
        }
    return MetricsTable(source=path, epochs=epochs, columns=columns, warnings=warnings)

"""Read and check a run directory's files; a running run's partial CSV is fine."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ml_core.contract import (
    NUMERIC_METRICS,
    TEXT_COLUMNS,
    ConfigError,
    RunPaths,
    load_config,
    quoted,
)

# Runs from before the collapse detector lack its diagnostics; the rest is drawn.
PLOTTED_COLUMNS = tuple(
    name for name in NUMERIC_METRICS if name not in ("val_prob_std", "val_dead_units")
)
PREDICTION_COLUMNS = ("index", "label", "prob_positive", "prediction")
TEST_NUMBERS = ("loss", "accuracy", "f1", "auroc", "num_samples")


class VizInputError(Exception):
    """A run directory, metrics file, data directory or prediction file is unusable;
    the message names the file and what is wrong with it."""


def read_text(path: Path) -> str:
    """The UTF-8 text of ``path``, or VizInputError saying why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise VizInputError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise VizInputError(f"{path}: cannot read ({error})") from None


@dataclass(frozen=True)
class CsvRows:
    """The data rows of a CSV file with their line numbers, read column by column."""

    path: Path
    header: list[str]
    rows: list[tuple[int, list[str]]]

    def text(self, column: str) -> list[str]:
        index = self.header.index(column)
        return [fields[index] for _, fields in self.rows]

    def numbers(self, column: str) -> np.ndarray:
        """Floats of one column; ``nan`` is allowed (AUROC of a one-class batch)."""
        values = []
        for (line, _), cell in zip(self.rows, self.text(column), strict=True):
            try:
                values.append(float(cell))
            except ValueError:
                raise VizInputError(
                    f"{self.path} line {line}, column {column}: {quoted(cell)} is not a "
                    "number"
                ) from None
        return np.asarray(values, dtype=np.float64)

    def epochs(self) -> np.ndarray:
        """The ``epoch`` column: positive whole numbers, strictly increasing."""
        values = self.numbers("epoch")
        for index, ((line, _), value) in enumerate(zip(self.rows, values, strict=True)):
            if not math.isfinite(value) or value != int(value) or value < 1:
                raise VizInputError(
                    f"{self.path} line {line}, column epoch: "
                    f"{quoted(self.text('epoch')[index])} is not a positive whole number"
                )
            if index and value <= values[index - 1]:
                raise VizInputError(
                    f"{self.path} line {line}: epoch {int(value)} does not follow "
                    f"epoch {int(values[index - 1])}"
                )
        return values.astype(np.int64)


def read_csv(path: Path, needed: Sequence[str]) -> CsvRows:
    """A CSV with at least one data row and every ``needed`` column."""
    text = read_text(path)
    if not text.strip():
        raise VizInputError(f"{path}: empty file")
    try:
        lines = list(csv.reader(text.splitlines()))
    except csv.Error as error:
        raise VizInputError(f"{path}: malformed CSV ({error})") from None
    header = [name.strip() for name in lines[0]]
    missing = [name for name in needed if name not in header]
    if missing:
        raise VizInputError(f"{path}: missing column(s) {', '.join(missing)}")
    rows = [(line, fields) for line, fields in enumerate(lines[1:], start=2) if fields]
    for line, fields in rows:
        if len(fields) != len(header):
            raise VizInputError(
                f"{path} line {line}: {len(fields)} fields, the header has "
                f"{len(header)}"
            )
    if not rows:
        raise VizInputError(f"{path}: no data rows, only a header")
    return CsvRows(path, header, rows)


@dataclass(frozen=True)
class MetricsTable:
    """One ``metrics.csv``: 1-based epochs, the plotted columns, collapse warnings."""

    epochs: np.ndarray
    columns: dict[str, np.ndarray]
    warnings: dict[int, str]


def read_metrics_csv(run_dir: Path) -> MetricsTable:
    """The run's per-epoch metrics; any number of finished epochs."""
    path = RunPaths(run_dir).metrics
    if not run_dir.is_dir():
        raise VizInputError(f"{run_dir}: no such run directory")
    if not path.is_file():
        raise VizInputError(
            f"{run_dir}: no {path.name} (not a run directory, or no epoch has "
            "finished yet)"
        )
    table = read_csv(path, ("epoch", *PLOTTED_COLUMNS))
    epochs = table.epochs()
    texts = [table.text(name) for name in TEXT_COLUMNS if name in table.header]
    warnings = {}
    for row, epoch in enumerate(epochs):
        text = "; ".join(filter(None, (cells[row].strip() for cells in texts)))
        if text:
            warnings[int(epoch)] = text
    columns = {name: table.numbers(name) for name in PLOTTED_COLUMNS}
    return MetricsTable(epochs, columns, warnings)


def read_run_config(run_dir: Path) -> dict[str, Any] | None:
    """The run's ``config.yaml`` as a mapping; None if the run has none."""
    path = RunPaths(run_dir).config
    if not path.is_file():
        return None
    try:
        return load_config(path)
    except ConfigError as error:
        raise VizInputError(str(error)) from None


def read_json_object(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``; None if the file does not exist."""
    if not path.is_file():
        return None
    try:
        content = json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise VizInputError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(content, dict):
        raise VizInputError(f"{path}: expected a JSON object")
    return content


def read_test_metrics(path: Path) -> dict[str, Any] | None:
    """``test_metrics.json`` with its numbers and confusion matrix type-checked."""
    metrics = read_json_object(path)
    if metrics is None:
        return None
    for key in TEST_NUMBERS:
        value = metrics.get(key)
        # JSON's numbers load as int or float; bool (true/false) is not one.
        if value is not None and type(value) not in (int, float):
            raise VizInputError(f"{path}: {key} is {quoted(value)}, not a number")
    matrix = metrics.get("confusion_matrix")
    if matrix is not None and not _is_2x2_counts(matrix):
        raise VizInputError(
            f"{path}: confusion_matrix must be [[tn, fp], [fn, tp]] of counts"
        )
    return metrics


def _is_2x2_counts(matrix: object) -> bool:
    rows = matrix if isinstance(matrix, list) and len(matrix) == 2 else []
    cells = [
        cell for row in rows if isinstance(row, list) and len(row) == 2 for cell in row
    ]
    return len(cells) == 4 and all(type(cell) is int and cell >= 0 for cell in cells)


@dataclass(frozen=True)
class Predictions:
    """One entry per test sample: true label, P(positive), predicted label."""

    labels: np.ndarray
    prob_positive: np.ndarray
    predicted: np.ndarray


def read_predictions(path: Path) -> Predictions | None:
    """``test_predictions.csv`` (labels and predictions in {0, 1}, P in [0, 1]); None
    if the file does not exist."""
    if not path.is_file():
        return None
    table = read_csv(path, PREDICTION_COLUMNS)
    labels, predicted = table.numbers("label"), table.numbers("prediction")
    prob = table.numbers("prob_positive")
    for name, values in (("label", labels), ("prediction", predicted)):
        if not np.isin(values, (0, 1)).all():
            raise VizInputError(
                f"{path}: column {name} holds values other than 0 and 1"
            )
    if not ((prob >= 0) & (prob <= 1)).all():
        raise VizInputError(f"{path}: column prob_positive has values outside [0, 1]")
    return Predictions(labels.astype(np.int64), prob, predicted.astype(np.int64))

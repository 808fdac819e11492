"""Read the JSON side files of a run directory (env.json, test_metrics.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ml_core.viz.errors import VizInputError

ENV_FILE = "env.json"
TEST_METRICS_FILE = "test_metrics.json"
TEST_METRIC_KEYS = ("loss", "accuracy", "f1", "auroc")


def read_json_object(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``; None if the file does not exist."""
    if not path.is_file():
        return None
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise VizInputError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(content, dict):
        raise VizInputError(f"{path}: expected a JSON object")
    return content


def read_test_metrics(path: Path) -> dict[str, Any] | None:
    """``test_metrics.json`` with its numbers and confusion matrix type-checked."""
    metrics = read_json_object(path)
    if metrics is None:
        return None
    for key in (*TEST_METRIC_KEYS, "num_samples"):
        value = metrics.get(key)
        if value is not None and not _is_number(value):
            raise VizInputError(f"{path}: {key} is {value!r}, not a number")
    matrix = metrics.get("confusion_matrix")
    if matrix is not None and not _is_2x2_counts(matrix):
        raise VizInputError(
            f"{path}: confusion_matrix must be [[tn, fp], [fn, tp]] of counts"
        )
    return metrics


def flatten_json(content: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """(dotted key, value as text) pairs of a nested JSON object, in file order."""
    pairs = []
    for key, value in content.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            pairs += flatten_json(value, f"{dotted}.")
        else:
            text = value if isinstance(value, str) else json.dumps(value)
            pairs.append((dotted, text))
    return pairs


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_2x2_counts(matrix: object) -> bool:
    return (
        isinstance(matrix, list)
        and len(matrix) == 2
        and all(isinstance(row, list) and len(row) == 2 for row in matrix)
        and all(
            isinstance(cell, int) and not isinstance(cell, bool) and cell >= 0
            for row in matrix
            for cell in row
        )
    )

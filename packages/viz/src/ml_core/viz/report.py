"""One self-contained HTML page that sums a run up.

Curves, final-epoch and test metrics, confusion matrix and ROC curve (from the saved
test predictions), the config and the environment. Images are inlined as base64 PNG.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ml_core.contract import (
    CONFIG_FILE,
    ENV_FILE,
    METRICS_FILE,
    REPORT_FILE,
    TEST_METRICS_FILE,
    write_bytes_atomic,
    write_text_atomic,
)
from ml_core.contract import TEST_PREDICTIONS_FILE as PREDICTIONS_FILE
from ml_core.viz import html_page as html
from ml_core.viz._curves import build_curves_figure
from ml_core.viz._figures import figure_to_png
from ml_core.viz._run_files import (
    Predictions,
    flatten,
    read_json_object,
    read_metrics_csv,
    read_predictions,
    read_test_metrics,
)
from ml_core.viz.predictions import confusion_matrix, roc_curve
from ml_core.viz.report_figures import confusion_figure, roc_figure

# (row label, metrics.csv suffix, test_metrics.json key)
METRIC_ROWS = (
    ("loss", "loss", "loss"),
    ("accuracy", "acc", "accuracy"),
    ("F1", "f1", "f1"),
    ("AUROC", "auroc", "auroc"),
)


@dataclass(frozen=True)
class RunReport:
    """The page and the PNGs embedded in it (by file name)."""

    html: str
    figures: dict[str, bytes]


def build_report(run_dir: Path) -> RunReport:
    """Read every file of ``run_dir`` the page needs; VizInputError on a bad one."""
    curves = build_curves_figure([run_dir])  # checks metrics.csv and config.yaml
    table = read_metrics_csv(run_dir / METRICS_FILE)
    test_metrics = read_test_metrics(run_dir / TEST_METRICS_FILE)
    env = read_json_object(run_dir / ENV_FILE)
    predictions_path = run_dir / PREDICTIONS_FILE
    predictions = (
        read_predictions(predictions_path) if predictions_path.is_file() else None
    )
    # Every file is read and checked above; only rendering follows.
    figures = {"curves.png": figure_to_png(curves)}
    body = [
        html.paragraph(f"Run directory: {run_dir}", "meta"),
        *(
            html.paragraph(
                f"WARNING: epoch {epoch}: the model collapsed: {text}", "warning"
            )
            for epoch, text in table.warnings.items()
        ),
        html.heading("Learning curves"),
        html.png_image(figures["curves.png"], "learning curves"),
        html.heading("Metrics"),
        _metrics_table(table.columns, int(table.epochs[-1]), test_metrics),
        html.heading("Test set"),
        *_test_section(test_metrics, predictions, figures),
        html.heading("Configuration (config.yaml)"),
        _text_file_or_note(run_dir / CONFIG_FILE),
        html.heading("Environment (env.json)"),
        _env_section(run_dir, env),
    ]
    return RunReport(html.page(f"Run report: {run_dir.name}", body), figures)


def write_report(
    run_dir: Path | str,
    out_path: Path | str | None = None,
    figures_dir: Path | str | None = None,
) -> list[Path]:
    """Write ``report.html`` (default inside the run) and optionally its PNGs.

    Everything is read and rendered before the first file is written.
    """
    run_dir = Path(run_dir)
    report = build_report(run_dir)
    target = Path(out_path) if out_path is not None else run_dir / REPORT_FILE
    written = []
    if figures_dir is not None:
        for name, png in report.figures.items():
            write_bytes_atomic(Path(figures_dir) / name, png)
            written.append(Path(figures_dir) / name)
    write_text_atomic(target, report.html)
    return [target, *written]


def _metrics_table(
    columns: dict[str, np.ndarray], last_epoch: int, test: dict[str, Any] | None
) -> str:
    checkpoint = (test or {}).get("checkpoint", "?")
    header = [
        "metric",
        f"train (epoch {last_epoch})",
        f"validation (epoch {last_epoch})",
        f"test ({checkpoint} checkpoint)",
    ]
    rows = [
        [
            label,
            float(columns[f"train_{suffix}"][-1]),
            float(columns[f"val_{suffix}"][-1]),
            None if test is None or test.get(key) is None else float(test[key]),
        ]
        for label, suffix, key in METRIC_ROWS
    ]
    rows.append(["learning rate", float(columns["lr"][-1]), None, None])
    if test is not None and test.get("num_samples") is not None:
        rows.append(["samples", None, None, int(test["num_samples"])])
    return html.table(header, rows)


def _test_section(
    test: dict[str, Any] | None,
    predictions: Predictions | None,
    figures: dict[str, bytes],
) -> list[str]:
    parts = []
    if test is None:
        parts.append(
            html.paragraph(
                f"No {TEST_METRICS_FILE} in this run directory: the run has not been "
                "evaluated on the test split yet (ml-eval RUN_DIR does that).",
                "note",
            )
        )
    if predictions is None:
        parts.append(
            html.paragraph(
                f"No {PREDICTIONS_FILE} in this run directory, so no confusion matrix "
                "or ROC curve can be drawn from predictions.",
                "note",
            )
        )
        saved = (test or {}).get("confusion_matrix")
        if saved is not None:
            png = figure_to_png(
                confusion_figure(np.asarray(saved), f"Confusion ({TEST_METRICS_FILE})")
            )
            figures["confusion.png"] = png
            parts.append(html.png_image(png, "confusion matrix"))
        return parts
    matrix = confusion_matrix(predictions.labels, predictions.predicted)
    roc = roc_curve(predictions.labels, predictions.prob_positive)
    figures["confusion.png"] = figure_to_png(
        confusion_figure(matrix, f"Confusion matrix (n = {len(predictions.labels):,})")
    )
    images = [html.png_image(figures["confusion.png"], "confusion matrix")]
    if roc is None:
        parts.append(
            html.paragraph("Only one class in the predictions: no ROC.", "note")
        )
    else:
        figures["roc.png"] = figure_to_png(roc_figure(roc, "ROC curve (test split)"))
        images.append(html.png_image(figures["roc.png"], "ROC curve"))
    parts.append(html.paragraph(f"From {PREDICTIONS_FILE}:"))
    parts.append(html.figures(images))
    parts += _consistency_notes(test, matrix, roc.auc if roc else None)
    return parts


def _consistency_notes(
    test: dict[str, Any] | None, matrix: np.ndarray, auc: float | None
) -> list[str]:
    # The page shows what the files say; if they disagree, the reader must know.
    if test is None:
        return []
    notes = []
    saved = test.get("confusion_matrix")
    if saved is not None and not np.array_equal(np.asarray(saved), matrix):
        notes.append(
            f"{TEST_METRICS_FILE} has confusion matrix {saved}, the predictions give "
            f"{matrix.tolist()}."
        )
    saved_auc = test.get("auroc")
    if auc is not None and saved_auc is not None and abs(saved_auc - auc) > 1e-4:
        notes.append(
            f"{TEST_METRICS_FILE} has AUROC {saved_auc:.4f}, the predictions give "
            f"{auc:.4f}."
        )
    return [html.paragraph(note, "note") for note in notes]


def _text_file_or_note(path: Path) -> str:
    if not path.is_file():
        return html.paragraph(f"No {path.name} in this run directory.", "note")
    return html.preformatted(path.read_text(encoding="utf-8"))


def _env_section(run_dir: Path, env: dict[str, Any] | None) -> str:
    if env is None:
        return html.paragraph(f"No {ENV_FILE} in {run_dir}.", "note")
    return html.table(
        ["key", "value"],
        [
            (k, v if isinstance(v, str) else json.dumps(v))
            for k, v in flatten(env).items()
        ],
    )

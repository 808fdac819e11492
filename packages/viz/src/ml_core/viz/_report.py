"""One self-contained HTML page that sums a run up, its images inlined as base64 PNG."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from ml_core.contract import (
    TEST_METRICS_FILE,
    TEST_PREDICTIONS_FILE,
    RunPaths,
    dotted_keys,
    write_bytes_atomic,
    write_text_atomic,
)
from ml_core.viz._curves import build_curves_figure
from ml_core.viz._evaluation import (
    confusion_figure,
    confusion_matrix,
    roc_curve,
    roc_figure,
)
from ml_core.viz._figures import figure_to_png
from ml_core.viz._run_files import (
    Predictions,
    read_json_object,
    read_metrics_csv,
    read_predictions,
    read_test_metrics,
    read_text,
)

# (row label, metrics.csv suffix, test_metrics.json key)
METRIC_ROWS = (
    ("loss", "loss", "loss"),
    ("accuracy", "acc", "accuracy"),
    ("F1", "f1", "f1"),
    ("AUROC", "auroc", "auroc"),
)
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem;
       color: #222; line-height: 1.4; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #ccc; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f6f6; padding: 0.8rem; overflow-x: auto; }
img { max-width: 100%; } .figures { display: flex; flex-wrap: wrap; gap: 1rem; }
.note { background: #fff6d6; border-left: 4px solid #e0b400; padding: 0.5rem 0.8rem; }
.meta { color: #666; }
.warning { background: #fde2e2; border-left: 4px solid #c62828; padding: 0.5rem 0.8rem;
           font-weight: bold; }
"""
ALT_TEXTS = {
    "curves.png": "learning curves",
    "confusion.png": "confusion matrix",
    "roc.png": "ROC curve",
}


@dataclass(frozen=True)
class RunReport:
    """The page and the PNGs embedded in it (by file name)."""

    html: str
    figures: dict[str, bytes]


def build_report(run_dir: Path | str) -> RunReport:
    """Read and check every file of ``run_dir`` the page needs (VizInputError on a bad
    one), then render the page."""
    paths = RunPaths(Path(run_dir))
    curves = build_curves_figure([paths.root])  # checks metrics.csv and config.yaml
    table = read_metrics_csv(paths.root)
    test = read_test_metrics(paths.test_metrics)
    env = read_json_object(paths.environment)
    config = read_text(paths.config) if paths.config.is_file() else None
    predictions = read_predictions(paths.test_predictions)
    test_parts, test_figures = _test_set_section(test, predictions)
    figures = {"curves.png": figure_to_png(curves), **test_figures}
    if env is not None:  # shown as text: strings as they are, anything else as JSON
        env = {
            key: value if isinstance(value, str) else json.dumps(value)
            for key, value in dotted_keys(env).items()
        }
    warnings = [
        _paragraph(f"WARNING: epoch {epoch}: the model collapsed: {text}", "warning")
        for epoch, text in table.warnings.items()
    ]
    body = [
        _paragraph(f"Run directory: {paths.root}", "meta"),
        *warnings,
        _heading("Learning curves"),
        _image(figures, "curves.png"),
        _heading("Metrics"),
        _metrics_table(table.columns, int(table.epochs[-1]), test or {}),
        _heading("Test set"),
        *test_parts,
        _heading(f"Configuration ({paths.config.name})"),
        _note(f"No {paths.config.name} in {paths.root}.")
        if config is None
        else f"<pre>{escape(config)}</pre>",
        _heading(f"Environment ({paths.environment.name})"),
        _note(f"No {paths.environment.name} in {paths.root}.")
        if env is None
        else _table(["key", "value"], env.items()),
    ]
    title = escape(f"Run report: {paths.root.name}")
    html = (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{title}</h1>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )
    return RunReport(html, figures)


def write_report(
    run_dir: Path | str,
    out_path: Path | str | None = None,
    figures_dir: Path | str | None = None,
) -> list[Path]:
    """Write ``report.html`` (default inside the run) and optionally its PNGs, all read
    and rendered before the first file is written."""
    report = build_report(run_dir)
    target = Path(out_path) if out_path is not None else RunPaths(Path(run_dir)).report
    pngs = {}
    if figures_dir is not None:
        pngs = {Path(figures_dir) / name: png for name, png in report.figures.items()}
    for path, png in pngs.items():
        write_bytes_atomic(path, png)
    write_text_atomic(target, report.html)
    return [target, *pngs]


def _metrics_table(
    columns: dict[str, np.ndarray], last_epoch: int, test: dict[str, Any]
) -> str:
    header = [
        "metric",
        f"train (epoch {last_epoch})",
        f"validation (epoch {last_epoch})",
        f"test ({test.get('checkpoint', '?')} checkpoint)",
    ]
    rows = [
        [
            label,
            float(columns[f"train_{suffix}"][-1]),
            float(columns[f"val_{suffix}"][-1]),
            None if test.get(key) is None else float(test[key]),
        ]
        for label, suffix, key in METRIC_ROWS
    ]
    rows.append(["learning rate", float(columns["lr"][-1]), None, None])
    if test.get("num_samples") is not None:
        rows.append(["samples", None, None, int(test["num_samples"])])
    return _table(header, rows)


def _test_set_section(
    test: dict[str, Any] | None, predictions: Predictions | None
) -> tuple[list[str], dict[str, bytes]]:
    """The test-set HTML parts and the PNGs they embed, by file name."""
    parts, figures = [], {}
    if test is None:
        parts.append(
            _note(
                f"No {TEST_METRICS_FILE} in this run directory: the run has not been "
                "evaluated on the test split yet (ml-eval RUN_DIR does that)."
            )
        )
    saved = (test or {}).get("confusion_matrix")
    if predictions is None:
        parts.append(
            _note(
                f"No {TEST_PREDICTIONS_FILE} in this run directory, so no confusion "
                "matrix or ROC curve can be drawn from predictions."
            )
        )
        if saved is not None:
            title = f"Confusion ({TEST_METRICS_FILE})"
            figure = confusion_figure(np.asarray(saved), title)
            figures["confusion.png"] = figure_to_png(figure)
            parts.append(_image(figures, "confusion.png"))
        return parts, figures
    matrix = confusion_matrix(predictions.labels, predictions.predicted)
    title = f"Confusion matrix (n = {len(predictions.labels):,})"
    figures["confusion.png"] = figure_to_png(confusion_figure(matrix, title))
    roc = roc_curve(predictions.labels, predictions.prob_positive)
    if roc is None:
        parts.append(_note("Only one class in the predictions: no ROC."))
    else:
        figures["roc.png"] = figure_to_png(roc_figure(roc, "ROC curve (test split)"))
    parts.append(_paragraph(f"From {TEST_PREDICTIONS_FILE}:"))
    images = "".join(_image(figures, name) for name in figures)
    parts.append(f"<div class='figures'>{images}</div>")
    if saved is not None and not np.array_equal(np.asarray(saved), matrix):
        parts.append(
            _note(
                f"{TEST_METRICS_FILE} has confusion matrix {saved}, the predictions "
                f"give {matrix.tolist()}."
            )
        )
    saved_auc = (test or {}).get("auroc")
    # The trainer's torch AUROC and this numpy one differ by rounding, never by 1e-4.
    if roc is not None and saved_auc is not None and abs(saved_auc - roc.auc) > 1e-4:
        parts.append(
            _note(
                f"{TEST_METRICS_FILE} has AUROC {saved_auc:.4f}, the predictions give "
                f"{roc.auc:.4f}."
            )
        )
    return parts, figures


def _heading(text: str) -> str:
    return f"<h2>{escape(text)}</h2>"


def _paragraph(text: str, css_class: str | None = None) -> str:
    attribute = f" class='{css_class}'" if css_class else ""
    return f"<p{attribute}>{escape(text)}</p>"


def _note(text: str) -> str:
    return _paragraph(text, "note")


def _image(figures: dict[str, bytes], name: str) -> str:
    """An ``<img>`` with the PNG inlined as base64, so the page needs no other file."""
    data = base64.b64encode(figures[name]).decode("ascii")
    return f"<img alt='{ALT_TEXTS[name]}' src='data:image/png;base64,{data}'>"


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A table; floats get 4 significant digits, right-aligned; None shows a dash."""
    head = "".join(f"<th>{escape(str(cell))}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(_cell(cell) for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: object) -> str:
    if value is None:
        return "<td>—</td>"
    if isinstance(value, float):
        return f"<td class='num'>{value:.4g}</td>"
    if isinstance(value, int):
        return f"<td class='num'>{value:,}</td>"
    return f"<td>{escape(str(value))}</td>"

"""One self-contained HTML page that sums a run up, its images inlined as base64 PNG.

Curves, collapse warnings, final and test metrics, test-set figures, config, environment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ml_core.contract import RunPaths, write_bytes_atomic, write_text_atomic
from ml_core.viz import _html as html
from ml_core.viz._curves import build_curves_figure
from ml_core.viz._evaluation import test_set_section
from ml_core.viz._figures import figure_to_png
from ml_core.viz._run_files import (
    flatten,
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


@dataclass(frozen=True)
class RunReport:
    """The page and the PNGs embedded in it (by file name)."""

    html: str
    figures: dict[str, bytes]


def build_report(run_dir: Path | str) -> RunReport:
    """Read every file of ``run_dir`` the page needs; VizInputError on a bad one."""
    paths = RunPaths(Path(run_dir))
    curves = build_curves_figure([paths.root])  # checks metrics.csv and config.yaml
    table = read_metrics_csv(paths.metrics)
    test = read_test_metrics(paths.test_metrics)
    env = read_json_object(paths.environment)
    config = read_text(paths.config) if paths.config.is_file() else None
    predictions = (
        read_predictions(paths.test_predictions)
        if paths.test_predictions.is_file()
        else None
    )
    # Every file is read and checked above; only rendering follows.
    test_parts, test_figures = test_set_section(test, predictions)
    figures = {"curves.png": figure_to_png(curves), **test_figures}
    body = [
        html.paragraph(f"Run directory: {paths.root}", "meta"),
        *(
            html.paragraph(
                f"WARNING: epoch {epoch}: the model collapsed: {text}", "warning"
            )
            for epoch, text in table.warnings.items()
        ),
        html.heading("Learning curves"),
        html.png_image(figures["curves.png"], "learning curves"),
        html.heading("Metrics"),
        _metrics_table(table.columns, int(table.epochs[-1]), test),
        html.heading("Test set"),
        *test_parts,
        html.heading(f"Configuration ({paths.config.name})"),
        _missing(paths.config, paths.root)
        if config is None
        else html.preformatted(config),
        html.heading(f"Environment ({paths.environment.name})"),
        _missing(paths.environment, paths.root)
        if env is None
        else html.table(["key", "value"], _as_text(flatten(env))),
    ]
    return RunReport(html.page(f"Run report: {paths.root.name}", body), figures)


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
    target = Path(out_path) if out_path is not None else RunPaths(run_dir).report
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


def _missing(path: Path, run_dir: Path) -> str:
    return html.paragraph(f"No {path.name} in {run_dir}.", "note")


def _as_text(flat: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (key, value if isinstance(value, str) else json.dumps(value))
        for key, value in flat.items()
    ]

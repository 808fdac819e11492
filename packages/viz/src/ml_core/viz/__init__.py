"""Plots and reports for runs and PCAM data: learning curves, data EDA, run reports."""

from __future__ import annotations

# EdaOptions lives with the command line, whose --help shows its defaults.
from ml_core.cli.viz import EdaOptions
from ml_core.viz._curves import build_curves_figure, plot_curves
from ml_core.viz._errors import VizInputError
from ml_core.viz.eda import run_eda
from ml_core.viz.report import build_report, write_report

__all__ = [
    "EdaOptions",
    "VizInputError",
    "build_curves_figure",
    "build_report",
    "plot_curves",
    "run_eda",
    "write_report",
]

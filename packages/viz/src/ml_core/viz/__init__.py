"""Plots and reports for runs and PCAM data: learning curves, data EDA, run reports."""

from __future__ import annotations

# EdaOptions lives with the command line, whose --help shows its defaults.
from ml_core.cli.viz import EdaOptions
from ml_core.viz._curves import build_curves_figure, plot_curves
from ml_core.viz._eda import run_eda
from ml_core.viz._errors import VizInputError
from ml_core.viz._report import RunReport, build_report, write_report

__all__ = [
    "EdaOptions",
    "RunReport",
    "VizInputError",
    "build_curves_figure",
    "build_report",
    "plot_curves",
    "run_eda",
    "write_report",
]

"""Plots and reports for runs and PCAM data: learning curves, data EDA, run reports."""

from ml_core.viz.curves import build_curves_figure, plot_curves
from ml_core.viz.errors import VizInputError
from ml_core.viz.report import build_report, write_report

__all__ = [
    "VizInputError",
    "build_curves_figure",
    "build_report",
    "plot_curves",
    "write_report",
]

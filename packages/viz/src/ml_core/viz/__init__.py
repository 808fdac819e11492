"""Learning curves and self-contained HTML run reports, torch-free (run files only)."""

from __future__ import annotations

from ml_core.viz._curves import build_curves_figure, plot_curves
from ml_core.viz._figures import CLASS_COLORS, CLASS_NAMES, figure_to_png
from ml_core.viz._report import RunReport, build_report, write_report
from ml_core.viz._run_files import VizInputError

__all__ = [
    "CLASS_COLORS",
    "CLASS_NAMES",
    "RunReport",
    "VizInputError",
    "build_curves_figure",
    "build_report",
    "figure_to_png",
    "plot_curves",
    "write_report",
]

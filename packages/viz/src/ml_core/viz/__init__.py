"""Plots and reports for runs and PCAM data: learning curves, data EDA, run reports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ml_core.viz.curves import build_curves_figure, plot_curves
from ml_core.viz.eda_options import EdaOptions
from ml_core.viz.errors import VizInputError
from ml_core.viz.report import build_report, write_report

if TYPE_CHECKING:
    from ml_core.viz.eda import run_eda

__all__ = [
    "EdaOptions",
    "VizInputError",
    "build_curves_figure",
    "build_report",
    "plot_curves",
    "run_eda",
    "write_report",
]


def __getattr__(name: str) -> Any:
    # run_eda needs ml_core.data and so torch (seconds to import); plot_curves, which
    # every training run calls, and the report do not. Load it on first use.
    if name == "run_eda":
        from ml_core.viz.eda import run_eda

        return run_eda
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

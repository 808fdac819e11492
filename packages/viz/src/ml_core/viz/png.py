"""Render a Matplotlib figure to PNG bytes with the Agg canvas.

Figures are built from ``matplotlib.figure.Figure`` directly, never through pyplot, so
viz neither switches the process-wide backend nor keeps figures alive in pyplot's
registry.
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 100


def figure_to_png(figure: Figure, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes (Agg renderer, whatever backend pyplot may be using)."""
    FigureCanvasAgg(figure)  # attaches itself as figure.canvas
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()

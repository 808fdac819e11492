"""What every figure shares: class names and colours, and PNG rendering on the Agg
canvas, never through pyplot (no process-wide backend switch)."""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

CLASS_NAMES = ("normal (0)", "tumour (1)")
CLASS_COLORS = ("tab:blue", "tab:red")


def figure_to_png(figure: Figure) -> bytes:
    """The figure as PNG bytes, whatever backend pyplot may be using."""
    FigureCanvasAgg(figure)  # attaches itself as figure.canvas
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()

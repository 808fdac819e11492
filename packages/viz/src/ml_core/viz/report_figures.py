"""The two evaluation figures of a run report: confusion matrix and ROC curve."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ml_core.viz._figures import CLASS_NAMES
from ml_core.viz.predictions import RocCurve


def confusion_figure(matrix: np.ndarray, title: str) -> Figure:
    """Counts and row percentages of a 2 x 2 confusion matrix (rows = true label)."""
    figure = Figure(figsize=(4.8, 4.2), layout="constrained")
    axis = figure.subplots()
    axis.set_gid("confusion")
    row_totals = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(
        matrix, row_totals, out=np.zeros(matrix.shape), where=row_totals > 0
    )
    image = axis.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (row, col), count in np.ndenumerate(matrix):
        color = "white" if shares[row, col] > 0.6 else "black"
        axis.text(
            col,
            row,
            f"{count:,}\n{shares[row, col]:.1%}",
            ha="center",
            va="center",
            color=color,
            fontsize=12,
        )
    axis.set_xticks([0, 1], CLASS_NAMES)
    axis.set_yticks([0, 1], CLASS_NAMES)
    axis.set_xlabel("predicted label")
    axis.set_ylabel("true label")
    axis.set_title(title)
    figure.colorbar(image, ax=axis, label="share of the true class")
    return figure


def roc_figure(roc: RocCurve, title: str) -> Figure:
    """The ROC curve with the chance diagonal and the area in the legend."""
    figure = Figure(figsize=(4.8, 4.2), layout="constrained")
    axis = figure.subplots()
    axis.set_gid("roc")
    (line,) = axis.plot(
        roc.false_positive_rate,
        roc.true_positive_rate,
        color="C0",
        linewidth=2,
        label=f"model (AUROC = {roc.auc:.4f})",
    )
    line.set_gid("roc")
    axis.plot([0, 1], [0, 1], color="0.5", linestyle=":", label="chance (0.5)")
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1.01)
    axis.set_aspect("equal")
    axis.set_xlabel("false positive rate")
    axis.set_ylabel("true positive rate")
    axis.set_title(title)
    axis.grid(visible=True, alpha=0.3)
    axis.legend(loc="lower right")
    return figure

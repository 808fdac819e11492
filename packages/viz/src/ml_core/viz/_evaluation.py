"""A run's test split: confusion matrix and ROC curve from its predictions, with numpy
(so a report needs neither the trainer nor a model), and their figures."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from ml_core.viz._figures import CLASS_NAMES


@dataclass(frozen=True)
class RocCurve:
    """False and true positive rates at every distinct threshold, and the area."""

    false_positive_rate: np.ndarray
    true_positive_rate: np.ndarray
    auc: float


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """2 x 2 counts ``[[tn, fp], [fn, tp]]``: rows = true label, columns = predicted."""
    return np.bincount(2 * labels + predicted, minlength=4).reshape(2, 2)


def roc_curve(labels: np.ndarray, scores: np.ndarray) -> RocCurve | None:
    """ROC of ``scores`` against binary ``labels``; None if a class is absent.

    Thresholds are the distinct scores, highest first; tied scores move together, so
    the area is P(a random positive outranks a random negative), ties counting half.
    """
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    order = np.argsort(-scores, kind="stable")
    last_of_each_score = np.r_[np.flatnonzero(np.diff(scores[order])), len(labels) - 1]
    true_positives = np.cumsum(labels[order])[last_of_each_score]
    false_positives = last_of_each_score + 1 - true_positives
    tpr = np.r_[0.0, true_positives / positives]
    fpr = np.r_[0.0, false_positives / negatives]
    return RocCurve(fpr, tpr, float(np.trapezoid(tpr, fpr)))


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
        text = f"{count:,}\n{shares[row, col]:.1%}"
        axis.text(col, row, text, ha="center", va="center", color=color, fontsize=12)
    axis.set_xticks([0, 1], CLASS_NAMES)
    axis.set_yticks([0, 1], CLASS_NAMES)
    axis.set(xlabel="predicted label", ylabel="true label", title=title)
    figure.colorbar(image, ax=axis, label="share of the true class")
    return figure


def roc_figure(roc: RocCurve, title: str) -> Figure:
    """The ROC curve with the chance diagonal and the area in the legend."""
    figure = Figure(figsize=(4.8, 4.2), layout="constrained")
    axis = figure.subplots()
    axis.set_gid("roc")
    rates = (roc.false_positive_rate, roc.true_positive_rate)
    label = f"model (AUROC = {roc.auc:.4f})"
    (line,) = axis.plot(*rates, color="C0", linewidth=2, label=label)
    line.set_gid("roc")
    axis.plot([0, 1], [0, 1], color="0.5", linestyle=":", label="chance (0.5)")
    axis.set(xlim=(0, 1), ylim=(0, 1.01), aspect="equal")
    axis.set(xlabel="false positive rate", ylabel="true positive rate", title=title)
    axis.grid(visible=True, alpha=0.3)
    axis.legend(loc="lower right")
    return figure

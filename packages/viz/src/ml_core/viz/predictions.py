"""Test-set predictions of a run, and the confusion matrix and ROC curve they give.

Computed with numpy from ``test_predictions.csv`` (``index,label,prob_positive,
prediction``), so viz never needs the trainer or a model to sum a run up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
    the area equals the probability that a random positive outranks a random negative
    (ties count one half).
    """
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    order = np.argsort(-scores, kind="stable")
    sorted_scores, sorted_labels = scores[order], labels[order]
    last_of_each_score = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(labels) - 1]
    true_positives = np.cumsum(sorted_labels)[last_of_each_score]
    false_positives = last_of_each_score + 1 - true_positives
    tpr = np.r_[0.0, true_positives / positives]
    fpr = np.r_[0.0, false_positives / negatives]
    return RocCurve(fpr, tpr, float(np.trapezoid(tpr, fpr)))

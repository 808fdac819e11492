"""Per-epoch binary classification metrics: loss, accuracy, F1, AUROC, confusion matrix.

The accumulator keeps the exact running loss sum and every prediction of the epoch so
far, and can be saved in a checkpoint mid-epoch, so a resumed epoch reports the same
numbers as an uninterrupted one. The metrics themselves come from torchmetrics'
functional API, computed once over the whole epoch in float64.
"""

from __future__ import annotations

from typing import Any

import torch
from torchmetrics.functional.classification import (
    binary_accuracy,
    binary_auroc,
    binary_confusion_matrix,
    binary_f1_score,
)

DECISION_THRESHOLD = 0.5


def binary_metrics(probs: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """``{"acc", "f1", "auroc"}`` for positive-class probabilities and 0/1 labels."""
    if labels.numel() == 0:
        return {"acc": float("nan"), "f1": 0.0, "auroc": float("nan")}
    probs = probs.double()
    return {
        "acc": binary_accuracy(probs, labels, threshold=DECISION_THRESHOLD).item(),
        "f1": binary_f1_score(probs, labels, threshold=DECISION_THRESHOLD).item(),
        "auroc": auroc(probs, labels),
    }


def confusion_matrix(probs: torch.Tensor, labels: torch.Tensor) -> list[list[int]]:
    """``[[tn, fp], [fn, tp]]``: rows are true labels, columns predictions."""
    matrix = binary_confusion_matrix(
        probs.double(), labels, threshold=DECISION_THRESHOLD
    )
    return matrix.tolist()


def auroc(probs: torch.Tensor, labels: torch.Tensor) -> float:
    """Area under the ROC curve; NaN when only one class is present (undefined).

    The one-class case is answered here because torchmetrics warns and returns 0 there.
    """
    n_pos = int((labels == 1).sum())
    if n_pos in (0, labels.numel()):
        return float("nan")
    return binary_auroc(probs.double(), labels).item()


class EpochAccumulator:
    """Running loss sum plus positive-class probabilities and labels of one epoch."""

    def __init__(self) -> None:
        self.loss_sum = 0.0
        self.count = 0
        self._probs: list[torch.Tensor] = []
        self._labels: list[torch.Tensor] = []

    def update(self, logits: torch.Tensor, labels: torch.Tensor, loss: float) -> None:
        """Add one batch: its logits (B, 2), labels (B,) and mean loss."""
        batch = labels.shape[0]
        self.loss_sum += loss * batch
        self.count += batch
        probs = torch.softmax(logits.detach().float(), dim=1)[:, 1]
        self._probs.append(probs.cpu())
        self._labels.append(labels.detach().cpu())

    @property
    def probs(self) -> torch.Tensor:
        return torch.cat(self._probs) if self._probs else torch.empty(0)

    @property
    def labels(self) -> torch.Tensor:
        if not self._labels:
            return torch.empty(0, dtype=torch.long)
        return torch.cat(self._labels)

    def compute(self) -> dict[str, float]:
        """``loss``, ``acc``, ``f1``, ``auroc``, and the spread of the predictions:
        ``prob_std`` (of the positive-class probability) and ``positive_rate``."""
        loss = self.loss_sum / self.count if self.count else float("nan")
        probs = self.probs.double()
        spread = {
            "prob_std": probs.std().item() if len(probs) > 1 else float("nan"),
            "positive_rate": (probs >= DECISION_THRESHOLD).double().mean().item(),
        }
        return {"loss": loss, **binary_metrics(self.probs, self.labels), **spread}

    @classmethod
    def merged(cls, states: list[dict[str, Any]]) -> EpochAccumulator:
        """One accumulator holding the :meth:`state_dict` s of several (e.g. ranks)."""
        merged = cls()
        for state in states:
            merged.loss_sum += float(state["loss_sum"])
            merged.count += int(state["count"])
            merged._probs.append(state["probs"])
            merged._labels.append(state["labels"])
        return merged

    def state_dict(self) -> dict[str, Any]:
        return {
            "loss_sum": self.loss_sum,
            "count": self.count,
            "probs": self.probs,
            "labels": self.labels,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.loss_sum = float(state["loss_sum"])
        self.count = int(state["count"])
        self._probs = [state["probs"]]
        self._labels = [state["labels"]]

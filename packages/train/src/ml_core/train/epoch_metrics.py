"""Per-epoch binary classification metrics: loss, accuracy, F1, AUROC, confusion matrix.

Computed with plain torch in float64 (importing torchmetrics costs ~4.5 s per process:
it pulls in torchvision and torch._dynamo). The accumulator keeps exact running sums and
every prediction of the epoch so far and can be saved in a checkpoint mid-epoch, so a
resumed epoch reports the same numbers as an uninterrupted one.
"""

from __future__ import annotations

from typing import Any

import torch

DECISION_THRESHOLD = 0.5


def binary_metrics(probs: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """``{"acc", "f1", "auroc"}`` for positive-class probabilities and 0/1 labels."""
    (tn, fp), (fn, tp) = confusion_matrix(probs, labels)
    total = tn + fp + fn + tp
    f1_denominator = 2 * tp + fp + fn
    return {
        "acc": (tp + tn) / total if total else float("nan"),
        "f1": 2 * tp / f1_denominator if f1_denominator else 0.0,
        "auroc": auroc(probs, labels),
    }


def confusion_matrix(probs: torch.Tensor, labels: torch.Tensor) -> list[list[int]]:
    """``[[tn, fp], [fn, tp]]``: rows are true labels, columns predictions."""
    predicted = probs > DECISION_THRESHOLD
    positive = labels == 1
    return [
        [int((~positive & ~predicted).sum()), int((~positive & predicted).sum())],
        [int((positive & ~predicted).sum()), int((positive & predicted).sum())],
    ]


def auroc(probs: torch.Tensor, labels: torch.Tensor) -> float:
    """Area under the ROC curve (Mann-Whitney U with tied scores counted half).

    NaN when only one class is present, where AUROC is undefined.
    """
    positive = labels == 1
    n_pos = int(positive.sum())
    n_neg = labels.numel() - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    sorted_scores, order = torch.sort(probs.double(), stable=True)
    _, inverse, counts = torch.unique_consecutive(
        sorted_scores, return_inverse=True, return_counts=True
    )
    ends = counts.cumsum(0).double()
    average_ranks = (ends - counts.double() + 1 + ends) / 2
    positive_rank_sum = average_ranks[inverse][positive[order]].sum().item()
    return (positive_rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


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
        """``{"loss", "acc", "f1", "auroc"}`` over everything added so far."""
        loss = self.loss_sum / self.count if self.count else float("nan")
        return {"loss": loss, **binary_metrics(self.probs, self.labels)}

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

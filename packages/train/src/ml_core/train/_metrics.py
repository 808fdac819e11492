"""Per-epoch binary metrics in float64 from their definitions (torchmetrics would pull
in torchvision: 4 of the 8 s a start took): loss, accuracy, F1, AUROC, confusion."""

from __future__ import annotations

import itertools
from typing import Any

import torch

DECISION_THRESHOLD = 0.5


def binary_metrics(probs: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """``{"acc", "f1", "auroc"}`` for positive-class probabilities and 0/1 labels."""
    if labels.numel() == 0:
        return {"acc": float("nan"), "f1": 0.0, "auroc": float("nan")}
    (tn, fp), (fn, tp) = confusion_matrix(probs, labels)
    flagged = 2 * tp + fp + fn
    return {
        "acc": (tp + tn) / labels.numel(),
        "f1": 2 * tp / flagged if flagged else 0.0,
        "auroc": auroc(probs, labels),
    }


def confusion_matrix(probs: torch.Tensor, labels: torch.Tensor) -> list[list[int]]:
    """``[[tn, fp], [fn, tp]]``: rows are true labels, columns predictions."""
    predicted = (probs.double() >= DECISION_THRESHOLD).long()
    counts = torch.bincount(labels.long() * 2 + predicted, minlength=4)
    return counts.view(2, 2).tolist()


def auroc(probs: torch.Tensor, labels: torch.Tensor) -> float:
    """Area under the ROC curve (NaN with one class): the Mann-Whitney chance that a
    positive outscores a negative, ties counting half, from average ranks."""
    positive = labels == 1
    n_pos = int(positive.sum())
    n_neg = labels.numel() - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    _, inverse, counts = torch.unique(
        probs.double(), return_inverse=True, return_counts=True
    )
    # Average rank (1-based) of each distinct value: tied scores share their ranks.
    ends = torch.cumsum(counts, 0).double()
    average_rank = ends - (counts.double() - 1) / 2
    rank_sum = average_rank[inverse][positive].sum().item()
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


class EpochAccumulator:
    """Per-batch losses, positive-class probabilities and labels of one epoch, kept on
    the device (adding a batch never waits for it); :meth:`state_dict` resumes it."""

    def __init__(self) -> None:
        self._losses: list[torch.Tensor] = []  # 1-d: one value per batch
        self._counts: list[int] = []
        self._probs: list[torch.Tensor] = []
        self._labels: list[torch.Tensor] = []
        self._checked = 0  # losses already seen by first_nonfinite_loss

    @property
    def count(self) -> int:
        return sum(self._counts)

    def update(
        self, logits: torch.Tensor, labels: torch.Tensor, loss: torch.Tensor
    ) -> None:
        """Add one batch: its logits (B, 2), labels (B,) and mean loss (0-dim)."""
        self._losses.append(loss.detach().float().reshape(1))
        self._counts.append(labels.shape[0])
        self._probs.append(torch.softmax(logits.detach().float(), dim=1)[:, 1])
        self._labels.append(labels.detach())

    def first_nonfinite_loss(self) -> float | None:
        """A NaN/inf batch loss added since the last call, if any (one device read)."""
        fresh = self._losses[self._checked :]
        self._checked = len(self._losses)
        if not fresh:
            return None
        values = torch.cat(fresh)
        finite = torch.isfinite(values)
        if bool(finite.all()):
            return None
        return float(values[~finite][0])

    @property
    def probs(self) -> torch.Tensor:
        return _on_host(self._probs, torch.float32)

    @property
    def labels(self) -> torch.Tensor:
        return _on_host(self._labels, torch.long)

    def compute(self) -> dict[str, float]:
        """``loss``, ``acc``, ``f1``, ``auroc``, and the spread of the predictions:
        ``prob_std`` (of the positive-class probability) and ``positive_rate``."""
        loss = float("nan")
        if self.count:
            # float64 on the host: batch means weighted by batch sizes, one big mean.
            losses = _on_host(self._losses, torch.float32).double()
            counts = torch.tensor(self._counts, dtype=torch.float64)
            loss = float((losses * counts).sum()) / self.count
        probs = self.probs.double()
        return {
            "loss": loss,
            **binary_metrics(probs, self.labels),
            "prob_std": probs.std().item() if len(probs) > 1 else float("nan"),
            "positive_rate": (probs >= DECISION_THRESHOLD).double().mean().item(),
        }

    def state_dict(self) -> dict[str, Any]:
        return {
            "losses": _on_host(self._losses, torch.float32),
            "counts": torch.tensor(self._counts, dtype=torch.int64),
            "probs": self.probs,
            "labels": self.labels,
        }

    def load_state_dict(self, state: dict[str, Any], *, append: bool = False) -> None:
        """Continue from ``state`` (or add it to what is here, with ``append``)."""
        if not append:
            self._losses, self._counts, self._probs, self._labels = [], [], [], []
        self._losses.append(state["losses"])
        self._counts.extend(int(count) for count in state["counts"])
        self._probs.append(state["probs"])
        self._labels.append(state["labels"])
        self._checked = len(self._losses)


def _on_host(parts: list[torch.Tensor], dtype: torch.dtype) -> torch.Tensor:
    """``parts`` joined on the CPU: one copy per run of parts on the same device (a
    restored state is on the CPU, what came after on the training device)."""
    if not parts:
        return torch.empty(0, dtype=dtype)
    runs = itertools.groupby(parts, key=lambda part: part.device)
    return torch.cat([torch.cat(list(same)).cpu() for _, same in runs])

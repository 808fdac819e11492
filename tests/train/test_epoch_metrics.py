"""Epoch metrics against their definitions, and exactness across a saved state."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from ml_core.train import EpochAccumulator, auroc, binary_metrics
from ml_core.train._evaluation import write_predictions
from ml_core.train._metrics import confusion_matrix


def _pairwise_auroc(probs: list[float], labels: list[int]) -> float:
    """AUROC by its definition: P(positive scores above negative), ties count half."""
    positives = [p for p, y in zip(probs, labels, strict=True) if y == 1]
    negatives = [p for p, y in zip(probs, labels, strict=True) if y == 0]
    wins = sum(
        1.0 if pos > neg else 0.5 if pos == neg else 0.0
        for pos, neg in itertools.product(positives, negatives)
    )
    return wins / (len(positives) * len(negatives))


@pytest.mark.parametrize("seed", range(4))
def test_auroc_matches_definition_with_ties(seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    probs = (torch.rand(60, generator=generator) * 8).round() / 8  # many ties
    labels = (torch.rand(60, generator=generator) < 0.4).long()
    # Both are sums of halves and wholes over n_pos * n_neg, in float64: they agree to
    # the last bits of one division.
    assert auroc(probs, labels) == pytest.approx(
        _pairwise_auroc(probs.tolist(), labels.tolist()), rel=1e-12
    )


def test_accuracy_f1_and_undefined_auroc() -> None:
    probs = torch.tensor([0.9, 0.8, 0.2, 0.6])
    labels = torch.tensor([1, 1, 1, 0])
    metrics = binary_metrics(probs, labels)
    # tp=2, fn=1, fp=1, tn=0
    assert metrics["acc"] == pytest.approx(0.5)
    assert metrics["f1"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    assert math.isnan(binary_metrics(probs, torch.ones(4, dtype=torch.long))["auroc"])


def test_accumulator_state_gives_identical_results() -> None:
    generator = torch.Generator().manual_seed(0)
    batches = [
        (
            torch.randn(5, 2, generator=generator),
            torch.randint(0, 2, (5,)),
            torch.tensor(0.1 * i),
        )
        for i in range(6)
    ]
    whole = EpochAccumulator()
    for batch in batches:
        whole.update(*batch)
    first_half = EpochAccumulator()
    for batch in batches[:3]:
        first_half.update(*batch)
    resumed = EpochAccumulator()
    resumed.load_state_dict(first_half.state_dict())
    for batch in batches[3:]:
        resumed.update(*batch)
    assert resumed.compute() == whole.compute()
    assert resumed.count == 30


def test_loss_is_the_batch_size_weighted_mean_and_nonfinite_losses_are_found() -> None:
    accumulator = EpochAccumulator()
    logits = torch.zeros(4, 2)
    accumulator.update(logits[:3], torch.tensor([0, 1, 0]), torch.tensor(0.5))
    accumulator.update(logits[:1], torch.tensor([1]), torch.tensor(0.25))
    assert accumulator.first_nonfinite_loss() is None
    # (3 * 0.5 + 1 * 0.25) / 4: dyadic fractions, exact in float32 and float64.
    assert accumulator.compute()["loss"] == 0.4375
    accumulator.update(logits[:2], torch.tensor([0, 1]), torch.tensor(float("nan")))
    assert math.isnan(accumulator.first_nonfinite_loss())
    assert accumulator.first_nonfinite_loss() is None  # each loss is looked at once


def test_predictions_file_and_confusion_matrix_agree_on_a_tie(tmp_path) -> None:
    # Equal logits give P(positive) = 0.5 exactly: the tie must be called the same way
    # in test_predictions.csv as in the confusion matrix of test_metrics.json.
    accumulator = EpochAccumulator()
    logits = torch.tensor([[0.0, 0.0], [2.0, -2.0], [-2.0, 2.0]])
    accumulator.update(logits, torch.tensor([0, 0, 1]), torch.tensor(0.1))
    path = tmp_path / "test_predictions.csv"
    write_predictions(path, accumulator)
    rows = path.read_text().splitlines()[1:]
    predicted = [int(row.rsplit(",", 1)[1]) for row in rows]
    (tn, fp), (fn, tp) = confusion_matrix(accumulator.probs, accumulator.labels)
    assert predicted == [1, 0, 1]
    assert (tn, fp, fn, tp) == (1, 1, 0, 1)

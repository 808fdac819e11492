"""Run report: self-contained, escaped HTML whose numbers come from the run's files."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest

from ml_core.viz import VizInputError, build_report, write_report
from ml_core.viz._evaluation import (
    confusion_figure,
    confusion_matrix,
    roc_curve,
    roc_figure,
)
from ml_core.viz._run_files import read_predictions

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def pairwise_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """P(random positive outranks random negative), ties 1/2: an independent AUC."""
    positive, negative = scores[labels == 1], scores[labels == 0]
    greater = (positive[:, None] > negative[None, :]).sum()
    ties = (positive[:, None] == negative[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(positive) * len(negative)))


def test_roc_area_matches_pairwise_definition(tmp_path: Path, write_evaluated_run):
    run = write_evaluated_run(tmp_path / "run")
    predictions = read_predictions(run / "test_predictions.csv")
    roc = roc_curve(predictions.labels, predictions.prob_positive)
    assert roc is not None
    expected = pairwise_auc(predictions.labels, predictions.prob_positive)
    # Trapezoids over rates vs a ratio of pair counts: the same number, rounded apart.
    assert roc.auc == pytest.approx(expected, abs=1e-12)
    assert roc.false_positive_rate[0] == roc.true_positive_rate[0] == 0
    assert roc.false_positive_rate[-1] == roc.true_positive_rate[-1] == 1
    assert np.all(np.diff(roc.false_positive_rate) >= 0)


def test_roc_of_one_class_is_none() -> None:
    assert roc_curve(np.ones(5, dtype=int), np.linspace(0, 1, 5)) is None


def test_confusion_matrix_layout() -> None:
    labels = np.array([0, 0, 0, 1, 1])
    predicted = np.array([0, 1, 1, 0, 1])
    assert confusion_matrix(labels, predicted).tolist() == [[1, 2], [1, 1]]


def test_report_is_self_contained_and_shows_the_files(
    tmp_path: Path, write_evaluated_run
) -> None:
    run = write_evaluated_run(tmp_path / "run")
    written = write_report(run, figures_dir=tmp_path / "figures")
    assert written[0] == run / "report.html"
    page = written[0].read_text()
    images = re.findall(r"<img [^>]*src='([^']*)'", page)
    assert len(images) == 3  # curves, confusion, ROC
    for source in images:
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1]).startswith(PNG_MAGIC)
    assert "http" not in page.replace("http-equiv", "")
    metrics = json.loads((run / "test_metrics.json").read_text())
    assert f"{metrics['accuracy']:.4g}" in page
    last_row = (run / "metrics.csv").read_text().splitlines()[-1].split(",")
    assert f"{float(last_row[5]):.4g}" in page  # final val_loss
    assert "&lt;b&gt;not bold&lt;/b&gt; &amp; co" in page
    assert "<b>" not in page
    assert "learning_rate: 0.001" in page
    assert "has confusion matrix" not in page  # the files agree on it
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == [
        "confusion.png",
        "curves.png",
        "roc.png",
    ]


def test_report_plots_the_roc_of_the_predictions(
    tmp_path: Path, write_evaluated_run
) -> None:
    run = write_evaluated_run(tmp_path / "run")
    report = build_report(run)
    assert set(report.figures) == {"curves.png", "confusion.png", "roc.png"}
    predictions = read_predictions(run / "test_predictions.csv")
    auc = pairwise_auc(predictions.labels, predictions.prob_positive)
    assert f"AUROC {0.8:.4f}, the predictions give {auc:.4f}" in report.html


def test_missing_predictions_are_said_not_invented(tmp_path: Path, write_run) -> None:
    run = write_run(tmp_path / "run")
    report = build_report(run)
    assert "No test_predictions.csv" in report.html
    assert "No test_metrics.json" in report.html
    assert "No env.json" in report.html
    assert set(report.figures) == {"curves.png"}


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("test_metrics.json", "{not json", "not valid JSON"),
        ("test_metrics.json", '{"accuracy": "high"}', "accuracy is 'high'"),
        ("test_predictions.csv", "index,label\n0,1\n", "missing column(s)"),
        (
            "test_predictions.csv",
            "index,label,prob_positive,prediction\n0,1,1.5,1\n",
            "outside",
        ),
        (
            "test_predictions.csv",
            "index,label,prob_positive,prediction\n0,2,0.5,1\n",
            "label",
        ),
        ("env.json", "[1, 2]", "expected a JSON object"),
    ],
)
def test_bad_run_files_raise_before_writing(
    tmp_path: Path, write_evaluated_run, name: str, text: str, problem: str
) -> None:
    run = write_evaluated_run(tmp_path / "run")
    (run / name).write_text(text)
    with pytest.raises(VizInputError, match=re.escape(name)) as caught:
        write_report(run)
    assert problem in str(caught.value)
    assert not (run / "report.html").exists()


def test_report_figures_draw_the_predictions(tmp_path: Path, write_evaluated_run):
    run = write_evaluated_run(tmp_path / "run")
    predictions = read_predictions(run / "test_predictions.csv")
    matrix = confusion_matrix(predictions.labels, predictions.predicted)
    roc = roc_curve(predictions.labels, predictions.prob_positive)
    assert roc is not None
    cells = [text.get_text() for text in confusion_figure(matrix, "t").axes[0].texts]
    assert [int(cell.split("\n")[0].replace(",", "")) for cell in cells] == (
        matrix.ravel().tolist()
    )
    (line,) = [line for line in roc_figure(roc, "t").axes[0].lines if line.get_gid()]
    np.testing.assert_array_equal(line.get_xdata(), roc.false_positive_rate)
    np.testing.assert_array_equal(line.get_ydata(), roc.true_positive_rate)


def test_collapsed_epochs_get_a_warning_banner(tmp_path: Path, write_run) -> None:
    reason = "constant predictions (probability std 3.0e-08)"
    collapsed = write_run(tmp_path / "collapsed", epochs=3, warnings={2: reason})
    page = build_report(collapsed).html
    assert (
        f"<p class='warning'>WARNING: epoch 2: the model collapsed: {reason}</p>"
        in page
    )
    assert page.count("WARNING") == 1
    healthy = write_run(tmp_path / "healthy", epochs=3, warnings={})
    assert "WARNING" not in build_report(healthy).html


def test_saved_confusion_matrix_is_drawn_without_predictions(
    tmp_path: Path, write_evaluated_run
) -> None:
    run = write_evaluated_run(tmp_path / "run")
    (run / "test_predictions.csv").unlink()
    report = build_report(run)
    assert set(report.figures) == {"curves.png", "confusion.png"}
    assert "No test_predictions.csv" in report.html


def test_one_class_predictions_have_no_roc(tmp_path: Path, write_evaluated_run):
    run = write_evaluated_run(tmp_path / "run")
    lines = ["index,label,prob_positive,prediction", "0,1,0.9,1", "1,1,0.2,0"]
    (run / "test_predictions.csv").write_text("\n".join(lines) + "\n")
    report = build_report(run)
    assert set(report.figures) == {"curves.png", "confusion.png"}
    assert "Only one class in the predictions: no ROC." in report.html
    # The saved matrix is of the full fixture, the predictions give [[0, 0], [1, 1]].
    assert "the predictions give [[0, 0], [1, 1]]" in report.html

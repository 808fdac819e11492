"""SIGKILL at 20 seeded random moments, each followed by ``--auto-resume``: no loss.

Nothing can catch SIGKILL, so this is what atomic writes, the staging directory and
exact resume are for: whatever the moment (starting up, mid-epoch, writing a checkpoint
or the CSV, finishing), every run that completes has the metrics of one that was never
interrupted.

Each start is a real ``ml-train`` process forked from a server that imported ml_core
once (:mod:`tests.forked_cli`): a fresh interpreter would spend ~3 s of the run importing
torch, and the kills would mostly land there.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.forked_cli import ForkedRun, run_forked
from tests.metrics_rows import without_timing

from .conftest import read_metrics, run_overrides

KILLS = 20


class _Starts:
    """Counts the starts of ``ml-train`` (forked from the pre-imported server)."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.count = 0

    def run(self, argv: list[str], kill_after: float | None = None) -> ForkedRun:
        self.count += 1
        return run_forked("ml-train", argv, self.cwd, kill_after=kill_after)


def _args(data_dir: Path, name: str) -> list[str]:
    settings = (
        "model.hidden_units=[8]",
        "training.epochs=4",
        "training.val_every_steps=5",
    )
    return ["--auto-resume", *run_overrides(data_dir, name, *settings)]


def _assert_equal_runs(run: Path, reference: Path) -> None:
    assert without_timing(read_metrics(run)) == without_timing(read_metrics(reference))
    for name in ("validation.csv", "test_metrics.json"):
        assert (run / name).read_text() == (reference / name).read_text(), name


@pytest.mark.slow
def test_kill_9_at_random_moments_loses_nothing(
    tiny_pcam_dir: Path, tmp_path: Path
) -> None:
    results = tmp_path / "experiments/results"
    moments = random.Random(20261203)
    kills = 0
    runs = [results / "killed-1"]
    starts = _Starts(tmp_path)
    reference = starts.run(_args(tiny_pcam_dir, "reference"))
    assert reference.returncode == 0, reference.stderr
    while kills < KILLS:
        assert starts.count < 4 * KILLS, "the runs kept finishing before a kill"
        # Anywhere from starting up to writing the last file of a whole run.
        moment = moments.uniform(0.0, reference.seconds)
        start = starts.run(_args(tiny_pcam_dir, runs[-1].name), moment)
        if start.killed:
            kills += 1
            continue
        # Finished before its kill: it must equal the reference; the next kills go
        # to a new run.
        assert start.returncode == 0, start.stderr
        _assert_equal_runs(runs[-1], results / "reference")
        runs.append(results / f"killed-{len(runs) + 1}")
    final = starts.run(_args(tiny_pcam_dir, runs[-1].name))
    assert final.returncode == 0, final.stderr
    _assert_equal_runs(runs[-1], results / "reference")
    names = sorted(path.name for path in results.iterdir())
    assert names == sorted(["reference", *(run.name for run in runs)])
    print(
        f"{kills} kills in {starts.count - 2} starts over {len(runs)} run(s); "
        f"a whole run takes {reference.seconds:.1f} s"
    )

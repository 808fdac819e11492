"""``ml-slurm --help``, usage errors and bad input answer fast and never import torch.

Each case runs ``ml_core.slurm.main`` in a fresh interpreter (see ``run_fresh_cli``);
``status`` on real job directories is checked the same way by the cluster tests.
"""

from __future__ import annotations

import pytest

from .conftest import MAX_CLI_SECONDS, run_fresh_cli


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["--help"], 0),
        (["submit", "--help"], 0),
        (["sweep", "--help"], 0),
        (["status", "--help"], 0),
        (["--no-such-flag"], 2),
        (["submit", "--device", "tpu"], 2),
        (["sweep"], 2),
        (["submit", "--preset", "no_such_preset"], 2),
        (["status", "/no/such/run"], 2),
        (["sweep", "/no/such/sweep.yaml"], 2),
        (["sweep", "s.yaml", "--parallel", "0"], 2),
    ],
)
def test_cli_answers_fast_without_torch(argv: list[str], code: int) -> None:
    run = run_fresh_cli(*argv)
    assert (run.code, run.torch) == (code, False), run.stderr
    assert run.seconds < MAX_CLI_SECONDS, f"{argv}: {run.seconds:.2f} s"
    if code:
        assert len(run.stderr.splitlines()) == 1, run.stderr
        assert run.stderr.startswith("ml-slurm"), run.stderr
    else:
        assert run.stdout.startswith("usage: ml-slurm")

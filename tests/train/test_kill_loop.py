"""SIGKILL at 20 seeded random moments, each followed by ``--auto-resume``: no loss.

Nothing can catch SIGKILL, so this is what atomic writes, the staging directory and
exact resume are for: whatever the moment (starting up, mid-epoch, writing a checkpoint
or the CSV, finishing), every run that completes has the metrics of one that was never
interrupted.

Each start is a real process running ``ml-train``'s ``train_main``, forked from a
server process that imported ml_core once: a fresh interpreter would spend ~3 s of the
run importing torch, and the kills would mostly land there.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .conftest import read_metrics, run_overrides, without_timing

KILLS = 20

# Reads one JSON request a line, forks a child that runs train_main, kills it after
# ``kill_after`` seconds if it is still running, and answers one JSON line. The server
# reaps each child itself, so the pid it kills is always its own live child.
_FORK_SERVER = """
import json, os, signal, sys, time
import torch._dynamo  # what a torch optimizer imports when it is made
import ml_core.viz  # the run's last step (the curves plot) imports it
from ml_core.cli.train import train_main

for line in sys.stdin:
    request = json.loads(line)
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        os.dup2(log, 2)
        code = train_main(request["argv"])
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    os.close(log)
    killed = False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        kill_after = request["kill_after"]
        if kill_after is not None and time.monotonic() - started >= kill_after:
            os.kill(pid, signal.SIGKILL)
            killed = True
            _, status = os.waitpid(pid, 0)
            break
        time.sleep(0.005)
    answer = {
        "exit": os.waitstatus_to_exitcode(status),
        "killed": killed,
        "seconds": time.monotonic() - started,
    }
    print(json.dumps(answer), flush=True)
"""


class _ForkServer:
    def __init__(self, process: subprocess.Popen[str], logs: Path) -> None:
        self.process = process
        self.logs = logs
        self.starts = 0

    def run(self, argv: list[str], kill_after: float | None = None) -> dict:
        """One start of ``ml-train argv``; its exit code, whether it was killed, and
        how long it ran."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.starts += 1
        log = self.logs / f"start-{self.starts}.log"
        request = {"argv": argv, "log": str(log), "kill_after": kill_after}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        answer["stderr"] = log.read_text()
        return answer


@contextmanager
def _fork_server(cwd: Path) -> Iterator[_ForkServer]:
    logs = cwd / "logs"
    logs.mkdir()
    with subprocess.Popen(
        [sys.executable, "-c", _FORK_SERVER],
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:  # leaving closes stdin, so the server ends; then it is waited for
        yield _ForkServer(process, logs)


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
    with _fork_server(tmp_path) as server:
        reference = server.run(_args(tiny_pcam_dir, "reference"))
        assert reference["exit"] == 0, reference["stderr"]
        while kills < KILLS:
            assert server.starts < 4 * KILLS, "the runs kept finishing before a kill"
            # Anywhere from starting up to writing the last file of a whole run.
            moment = moments.uniform(0.0, reference["seconds"])
            start = server.run(_args(tiny_pcam_dir, runs[-1].name), moment)
            if start["killed"]:
                kills += 1
                continue
            # Finished before its kill: it must equal the reference; the next kills
            # go to a new run.
            assert start["exit"] == 0, start["stderr"]
            _assert_equal_runs(runs[-1], results / "reference")
            runs.append(results / f"killed-{len(runs) + 1}")
        final = server.run(_args(tiny_pcam_dir, runs[-1].name))
    assert final["exit"] == 0, final["stderr"]
    _assert_equal_runs(runs[-1], results / "reference")
    names = sorted(path.name for path in results.iterdir())
    assert names == sorted(["reference", *(run.name for run in runs)])
    print(
        f"{kills} kills in {server.starts - 2} starts over {len(runs)} run(s); "
        f"a whole run takes {reference['seconds']:.1f} s"
    )

"""Console-script runs as real processes forked from one pre-imported server.

A fresh interpreter spends ~3 s of CPU importing torch (and dynamo, which every
optimizer step imports) before ``ml-train`` reads its first flag; on a two-core machine
that was most of the suite's time. The server imports ml_core once; each run is a
``fork()`` of it that sets the run's working directory, environment and ``sys.argv``
and calls the console script's entry point, exactly as the installed script does. So a
run is still its own process (its own exit status, signals, globals, crash), only
without the start-up. What is read at import time (a ``TORCH_*`` variable, say) is the
server's; a test about start-up itself runs the installed script instead.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent

# One request a line in, one answer a line out. The server reaps each child itself, so
# a pid it signals is always its own live child.
_SERVER = """
import importlib.metadata, json, os, resource, signal, sys, time, traceback
import torch._dynamo  # what the first optimizer step imports
import ml_core.cli.data, ml_core.cli.train, ml_core.cli.viz, ml_core.eda, ml_core.viz
import ml_core.train._commands, ml_core.data._commands
import matplotlib.backends.backend_agg

SCRIPTS = importlib.metadata.entry_points(group="console_scripts")

def open_output(path):
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)

def child(request, outputs):
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    if request["file_size_limit"] is not None:
        limit = request["file_size_limit"]
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    for descriptor, output in zip((1, 2), outputs):
        os.dup2(output, descriptor)
    sys.argv = [request["program"], *request["argv"]]
    try:
        code = SCRIPTS[request["program"]].load()()
    except SystemExit as stop:
        code = stop.code
    except BaseException:
        traceback.print_exc()
        code = 1
    if not isinstance(code, int):
        if code is not None:
            print(code, file=sys.stderr)
        code = 0 if code is None else 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

for line in sys.stdin:
    request = json.loads(line)
    # Opened before the fork: a child killed at once still leaves both files.
    outputs = [open_output(request["stdout"]), open_output(request["stderr"])]
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        child(request, outputs)
    for output in outputs:
        os.close(output)
    deadline = request["kill_after"]
    killed = False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if deadline is not None and time.monotonic() - started >= deadline:
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


class ForkedRun(subprocess.CompletedProcess[str]):
    """A finished run: ``returncode``, ``stdout``, ``stderr``, and how it ended."""

    killed: bool
    seconds: float


class _Server:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._logs = Path(tempfile.mkdtemp(prefix="forked-cli-"))
        self._count = 0
        self._process = subprocess.Popen(
            [sys.executable, "-c", _SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(
        self,
        program: str,
        argv: Sequence[str],
        cwd: Path,
        env: Mapping[str, str],
        kill_after: float | None,
        file_size_limit: int | None,
    ) -> ForkedRun:
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        with self._lock:
            self._count += 1
            out = self._logs / f"{self._count}.out"
            err = self._logs / f"{self._count}.err"
            request: dict[str, Any] = {
                "program": program,
                "argv": list(argv),
                "cwd": str(cwd),
                "env": dict(env),
                "stdout": str(out),
                "stderr": str(err),
                "kill_after": kill_after,
                "file_size_limit": file_size_limit,
            }
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
            answer = json.loads(self._process.stdout.readline())
        result = ForkedRun(
            [str(BIN / program), *argv],
            answer["exit"],
            out.read_text(),
            err.read_text(),
        )
        result.killed, result.seconds = answer["killed"], answer["seconds"]
        out.unlink()
        err.unlink()
        return result

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()  # the server's loop ends
        self._process.wait(timeout=60)
        assert self._process.stdout is not None
        self._process.stdout.close()
        self._logs.rmdir()


_server: _Server | None = None


def run_forked(
    program: str,
    argv: Sequence[str],
    cwd: Path,
    *,
    timeout: float = 120,
    kill_after: float | None = None,
    env: Mapping[str, str] | None = None,
    file_size_limit: int | None = None,
) -> ForkedRun:
    """Run console script ``program`` with ``argv`` in ``cwd``, as its own process.

    ``kill_after`` seconds: SIGKILL it then if it still runs (``killed`` says whether it
    came to that). Past ``timeout`` it is killed and :class:`subprocess.TimeoutExpired`
    raised. The environment is this process's (read now: monkeypatched values count)
    unless ``env`` is given. ``file_size_limit``: its RLIMIT_FSIZE in bytes (a full disk
    as a process sees it: writes past the limit fail with EFBIG).
    """
    global _server
    if _server is None:
        _server = _Server()
        atexit.register(_server.close)
    limit = timeout if kill_after is None else min(kill_after, timeout)
    result = _server.run(
        program,
        argv,
        cwd,
        os.environ if env is None else env,
        kill_after=limit,
        file_size_limit=file_size_limit,
    )
    if result.killed and (kill_after is None or kill_after > timeout):
        raise subprocess.TimeoutExpired(result.args, timeout, result.stdout)
    return result

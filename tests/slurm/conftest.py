"""A private, real Slurm cluster on this machine for the Slurm tests.

The session fixture ``slurm_cluster`` writes a slurm.conf into a temp dir (one node: this
host at 127.0.0.1, 6 CPUs, free unprivileged ports, state and spool in the temp dir),
starts ``slurmctld -D`` and ``slurmd -D`` as children of the test process, waits for the
node to be idle, exports ``SLURM_CONF`` and stops both daemons by pid at the end.
Authentication is ``auth/none`` (Slurm 22.05 accepts it); where a build refuses it, a
private ``munged`` with its own key and socket is started instead. Set
``ML_CORE_TEST_SLURM_AUTH=munge`` to force that path.

Without ``slurmctld`` on PATH the tests skip, except under ``CI=true`` where they fail:
``.ci/run`` installs Debian's ``slurm-wlm`` and ``munge`` first.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

SLURM_PROGRAMS = ("slurmctld", "slurmd", "sbatch", "scontrol", "sinfo", "squeue")
TERMINAL_STATES = frozenset(
    {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"}
)
STARTUP_TIMEOUT_S = 30.0
POLL_S = 0.2

# Timers are low so that a test never waits for Slurm's production defaults:
# KillWait between SIGTERM and SIGKILL, MinJobAge before a finished job is forgotten.
# The node offers 6 CPUs (config_overrides: more than the machine's 2 cores) so that
# the tests' one-CPU jobs overlap: most of their time is spent importing torch.
SLURM_CONF_TEMPLATE = """\
# Written by tests/slurm/conftest.py for one pytest session.
ClusterName=mlcoretest
SlurmctldHost={host}(127.0.0.1)
SlurmUser={user}
SlurmdUser=root
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
{auth_lines}
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
MpiDefault=none
SwitchType=switch/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=1
JobRequeue=1
ReturnToService=2
MinJobAge=30
KillWait=5
MessageTimeout=5
SlurmdTimeout=30
InactiveLimit=0
SlurmdParameters=config_overrides
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc={root}/jobcomp.log
NodeName={host} NodeAddr=127.0.0.1 CPUs=6 RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""
AUTH_NONE = "AuthType=auth/none\nCredType=cred/none"
AUTH_MUNGE = "AuthType=auth/munge\nAuthInfo=socket={socket}\nCredType=cred/munge"


@dataclass(frozen=True)
class LocalSlurm:
    """Handle on the running test cluster; every command uses its slurm.conf."""

    terminal_states: ClassVar[frozenset[str]] = TERMINAL_STATES
    root: Path
    conf: Path
    node: str

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a Slurm client command against this cluster."""
        return subprocess.run(
            list(args),
            capture_output=True,
            text=True,
            check=check,
            env={**os.environ, "SLURM_CONF": str(self.conf)},
            timeout=30,
        )

    def job_field(self, job_id: str, field: str) -> str | None:
        """One ``scontrol show job`` field, or None once Slurm has forgotten the job."""
        shown = self.run("scontrol", "-o", "show", "job", job_id, check=False)
        if shown.returncode != 0:
            return None
        for item in shown.stdout.split():
            key, _, value = item.partition("=")
            if key == field:
                return value
        return None

    def wait_for_state(
        self, job_id: str, states: set[str] | frozenset[str], timeout: float
    ) -> str:
        """Poll until the job's state is one of ``states``; fail the test on timeout."""
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            state = self.job_field(job_id, "JobState")
            if state in states:
                return state
            time.sleep(POLL_S)
        pytest.fail(f"job {job_id} still {state} after {timeout:.0f} s\n{self.logs()}")

    def release(self, job_id: str) -> None:
        """Start a requeued job now instead of after Slurm's ~2 minute BeginTime hold."""
        self.run("scontrol", "update", f"JobId={job_id}", "StartTime=now")

    def completion_records(self) -> list[str]:
        """Lines of the jobcomp/filetxt log: one per job that reached an end state."""
        path = self.root / "jobcomp.log"
        return path.read_text().splitlines() if path.exists() else []

    def logs(self) -> str:
        """The tail of both daemon logs, for failure messages."""
        parts = []
        for name in ("slurmctld.log", "slurmd.log"):
            path = self.root / name
            text = path.read_text(errors="replace") if path.exists() else "(none)"
            parts.append(f"--- {name} ---\n" + "\n".join(text.splitlines()[-15:]))
        return "\n".join(parts)


def _require_slurm() -> None:
    missing = [name for name in SLURM_PROGRAMS if shutil.which(name) is None]
    if not missing:
        return
    reason = f"Slurm not installed ({', '.join(missing)} not on PATH)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; under CI=true .ci/run must install slurm-wlm and munge")
    pytest.skip(f"{reason}: apt-get install slurm-wlm munge to run these tests")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _start_munge(root: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """A private munged: own key, socket, pid and seed files under ``root``."""
    munge_dir = root / "munge"
    munge_dir.mkdir(mode=0o700)
    key = munge_dir / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    sock = munge_dir / "munge.sock"
    process = _start(
        [
            "munged",
            "--foreground",
            "--force",
            f"--socket={sock}",
            f"--key-file={key}",
            f"--pid-file={munge_dir / 'munged.pid'}",
            f"--seed-file={munge_dir / 'munged.seed'}",
            f"--log-file={munge_dir / 'munged.log'}",
        ],
        munge_dir / "munged.out",
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not sock.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process)
            pytest.fail(
                f"munged did not start: {(munge_dir / 'munged.out').read_text()}"
            )
        time.sleep(POLL_S)
    return process, sock


def _wait_for_idle_node(cluster: LocalSlurm, daemons: list[subprocess.Popen]) -> bool:
    """True once sinfo reports the node idle; False if a daemon died first."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in daemons):
            return False
        shown = cluster.run("sinfo", "-h", "-N", "-o", "%T", check=False)
        if shown.returncode == 0 and shown.stdout.strip() == "idle":
            return True
        time.sleep(POLL_S)
    return False


def _start_cluster(root: Path, auth: str) -> tuple[LocalSlurm, list[subprocess.Popen]]:
    """Write slurm.conf for ``auth`` ("none" or "munge") and start the daemons."""
    root.mkdir()
    (root / "state").mkdir()
    (root / "spool").mkdir()
    processes: list[subprocess.Popen] = []
    auth_lines = AUTH_NONE
    if auth == "munge":
        munged, sock = _start_munge(root)
        processes.append(munged)
        auth_lines = AUTH_MUNGE.format(socket=sock)
    node = socket.gethostname().split(".")[0]
    conf = root / "slurm.conf"
    conf.write_text(
        SLURM_CONF_TEMPLATE.format(
            host=node,
            user=os.environ.get("USER") or "root",
            ctld_port=_free_port(),
            slurmd_port=_free_port(),
            auth_lines=auth_lines,
            root=root,
        )
    )
    cluster = LocalSlurm(root=root, conf=conf, node=node)
    daemons = [
        _start(["slurmctld", "-D", "-i", "-f", str(conf)], root / "slurmctld.out"),
        _start(["slurmd", "-D", "-N", node, "-f", str(conf)], root / "slurmd.out"),
    ]
    processes += daemons
    if _wait_for_idle_node(cluster, daemons):
        return cluster, processes
    logs = cluster.logs()
    for process in reversed(processes):
        _stop(process)
    if auth == "none":
        return _start_cluster(root.with_name(root.name + "-munge"), "munge")
    pytest.fail(f"the test Slurm cluster did not come up\n{logs}")


def _cancel_all_jobs(cluster: LocalSlurm) -> None:
    """Cancel leftover jobs so no slurmstepd outlives the daemons."""
    cluster.run("scancel", f"--user={os.getuid()}", check=False)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        queue = cluster.run("squeue", "-h", "-t", "RUNNING,COMPLETING", check=False)
        if not queue.stdout.strip():
            return
        time.sleep(POLL_S)


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSlurm]:
    """A running private Slurm cluster; ``SLURM_CONF`` points at it meanwhile."""
    _require_slurm()
    auth = os.environ.get("ML_CORE_TEST_SLURM_AUTH", "none")
    root = tmp_path_factory.mktemp("cluster") / "slurm"
    cluster, processes = _start_cluster(root, auth)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SLURM_CONF", str(cluster.conf))
            yield cluster
    finally:
        _cancel_all_jobs(cluster)
        for process in reversed(processes):
            _stop(process)


@pytest.fixture(scope="session")
def tiny_pcam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny real PCAM directory (six h5 files) written by ml_core.data."""
    from ml_core.data import write_synthetic_pcam

    return write_synthetic_pcam(
        tmp_path_factory.mktemp("tiny_pcam"), n_train=256, n_valid=64, n_test=64
    )


def write_tiny_config(path: Path, data_dir: Path, save_dir: Path, epochs: int) -> Path:
    """A fast CPU experiment config (small MLP, no bf16) for jobs on the test cluster."""
    path.write_text(
        "experiment_name: tiny\n"
        "seed: 0\n"
        "data:\n"
        "  dataset_type: pcam\n"
        f"  data_path: {data_dir}\n"
        "  batch_size: 16\n"
        "  num_workers: 0\n"
        "model:\n"
        "  hidden_units: [16]\n"
        "training:\n"
        f"  epochs: {epochs}\n"
        "  learning_rate: 0.001\n"
        f"  save_dir: {save_dir}\n"
        "  device: cpu\n"
        "  bf16: false\n"
        "  log_every_seconds: 0\n"
    )
    return path


@pytest.fixture(scope="session")
def tiny_config_writer() -> Callable[[Path, Path, Path, int], Path]:
    """:func:`write_tiny_config`, for tests outside this file."""
    return write_tiny_config


@pytest.fixture
def tiny_config(tmp_path: Path, tiny_pcam: Path) -> Path:
    """A tiny experiment config saving under ``tmp_path/results``."""
    return write_tiny_config(
        tmp_path / "tiny.yaml", tiny_pcam, tmp_path / "results", epochs=2
    )


WAIT_S = 150.0


def wait_until(
    condition: Callable[[], object], what: str, timeout: float = WAIT_S
) -> None:
    """Poll ``condition`` every 0.1 s; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


# A fresh interpreter runs ml-slurm's main, then reports its exit code and whether torch
# was imported as the last stderr line.
FRESH_CLI = """
import json, sys
from ml_core.slurm import main
try:
    code = main(sys.argv[1:])
except SystemExit as stop:
    code = stop.code
print(json.dumps({"code": code, "torch": "torch" in sys.modules}), file=sys.stderr)
"""
# ml-slurm's quick answers must stay interactive: importing torch alone takes longer.
MAX_CLI_SECONDS = 1.5


@dataclass(frozen=True)
class CliRun:
    """One ``ml-slurm`` run in a fresh interpreter."""

    code: object
    torch: bool
    stdout: str
    stderr: str
    seconds: float


def run_fresh_cli(*argv: str) -> CliRun:
    """``ml-slurm ARGV`` in a new Python process, timed from its start to its end."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", FRESH_CLI, *argv],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    seconds = time.monotonic() - started
    *messages, report = done.stderr.strip().splitlines() or ["{}"]
    parsed = json.loads(report)
    return CliRun(
        parsed.get("code"),
        parsed.get("torch", True),
        done.stdout,
        "\n".join(messages),
        seconds,
    )

"""torch.distributed for ``ml-train`` (README "Multi-GPU"): the launcher (torchrun,
srun or none), the process group (NCCL on CUDA, gloo on CPU), collectives, the stop."""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import signal
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from ml_core.train._stop_signals import StopFlag

logger = logging.getLogger(__name__)

# srun's ports: a fixed range, offset by the job id so that two jobs sharing a node
# (or a requeued job whose old port lingers in TIME_WAIT) rarely collide.
SLURM_PORT_BASE, SLURM_PORT_SPAN = 20000, 20000
GROUP_TIMEOUT = datetime.timedelta(minutes=30)


class LaunchError(RuntimeError):
    """The launcher's environment variables are incomplete or inconsistent."""


@dataclass(frozen=True)
class Launch:
    """How this process was started: its rank among ``world_size`` processes."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    master_addr: str | None = None
    master_port: int | None = None
    launcher: str = "single"

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


# Each launcher's variables for the rank, the world size and the local rank, in the
# order they are looked for. srun sets SLURM_STEP_NUM_TASKS for its step, not in the
# batch shell, so a trainer started directly by a multi-task job script stays one process.
LAUNCHERS = {
    "torchrun": ("RANK", "WORLD_SIZE", "LOCAL_RANK"),
    "srun": ("SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID"),
}


def detect_launch(environ: Mapping[str, str] | None = None) -> Launch:
    """The launch described by ``environ`` (default ``os.environ``)."""
    env = os.environ if environ is None else environ
    launcher = next(
        (key for key, names in LAUNCHERS.items() if all(n in env for n in names[:2])),
        None,
    )
    if launcher is None:
        return Launch()
    rank_name, world_name, local_name = LAUNCHERS[launcher]
    rank, world = _integer(env, rank_name), _integer(env, world_name)
    # A local rank torchrun leaves out is the rank (one node); srun's is 0.
    default_local = rank if launcher == "torchrun" else 0
    local_rank = _integer(env, local_name) if local_name in env else default_local
    if world < 1 or not 0 <= rank < world:
        raise LaunchError(f"{rank_name}={rank}: not a rank of a world of size {world}")
    if world == 1:
        return Launch(launcher=launcher)
    if launcher == "torchrun":
        for name in ("MASTER_ADDR", "MASTER_PORT"):
            if not env.get(name):
                raise LaunchError(f"{name}: not set, but WORLD_SIZE={world}")
    if env.get("MASTER_PORT"):
        port = _integer(env, "MASTER_PORT")
    else:
        port = SLURM_PORT_BASE + _integer(env, "SLURM_JOB_ID") % SLURM_PORT_SPAN
    address = env.get("MASTER_ADDR") or first_host(
        env.get("SLURM_STEP_NODELIST") or env.get("SLURM_JOB_NODELIST", "")
    )
    return Launch(rank, world, local_rank, address, port, launcher)


def first_host(nodelist: str) -> str:
    """The first host of a Slurm node list (``node[01-04]`` -> ``node01``)."""
    if not nodelist:
        raise LaunchError("SLURM_JOB_NODELIST: not set; cannot find the master host")
    try:
        result = subprocess.run(
            ["scontrol", "show", "hostnames", nodelist],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise LaunchError(
            f"SLURM_JOB_NODELIST={nodelist}: scontrol show hostnames failed ({error})"
        ) from None
    hosts = result.stdout.split()
    if not hosts:
        raise LaunchError(f"SLURM_JOB_NODELIST={nodelist}: no hosts")
    return hosts[0]


def _integer(env: Mapping[str, str], name: str) -> int:
    value = env.get(name, "")
    try:
        return int(value)
    except ValueError:
        raise LaunchError(f"{name}: expected an integer, got {value!r}") from None


def process_device(launch: Launch, device: torch.device) -> torch.device:
    """This process's device: ``cuda:LOCAL_RANK`` for a distributed CUDA run, or
    ``cuda:0`` where the task sees one GPU (``--gpus-per-task=1``)."""
    if device.type != "cuda" or not launch.distributed:
        return device
    visible = torch.cuda.device_count()
    if visible > 1 and launch.local_rank >= visible:
        raise LaunchError(
            f"local rank {launch.local_rank}: only {visible} CUDA devices are visible"
        )
    device = torch.device("cuda", launch.local_rank if visible > 1 else 0)
    torch.cuda.set_device(device)
    return device


@contextlib.contextmanager
def process_group(launch: Launch, device: torch.device) -> Iterator[None]:
    """Join the launch's process group (nothing for one process); leave it at exit."""
    if not launch.distributed:
        yield
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(
        backend,
        init_method=f"tcp://{launch.master_addr}:{launch.master_port}",
        rank=launch.rank,
        world_size=launch.world_size,
        timeout=GROUP_TIMEOUT,
        device_id=device if device.type == "cuda" else None,
    )
    logger.info(
        "rank %d of %d (%s, %s, master %s:%s)",
        launch.rank,
        launch.world_size,
        launch.launcher,
        backend,
        launch.master_addr,
        launch.master_port,
    )
    try:
        yield
    finally:
        dist.destroy_process_group()


def barrier(launch: Launch) -> None:
    """Wait for every rank (no-op for one process)."""
    if launch.distributed:
        dist.barrier()


def all_gather_objects(launch: Launch, value: Any) -> list[Any]:
    """``value`` of every rank, in rank order (``[value]`` for one process)."""
    if not launch.distributed:
        return [value]
    gathered: list[Any] = [None] * launch.world_size
    dist.all_gather_object(gathered, value)
    return gathered


class SharedStopFlag(StopFlag):
    """A data-parallel run's stop flag: any rank's signal stops all at one step.
    :meth:`poll` with ``sync`` is a collective: all-reduce MAX of signal, divergence."""

    def __init__(self, device: torch.device) -> None:
        super().__init__()
        self._device = device

    def poll(self, *, sync: bool = True) -> bool:
        if not sync:
            return False
        number = signal.Signals[self.signal_name].value if self.signal_name else 0
        flags = torch.tensor(
            [number, self.divergence is not None],
            dtype=torch.int32,
            device=self._device,
        )
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        agreed, diverged = (int(value) for value in flags.tolist())
        if agreed and self.signal_name is None:
            self.signal_name = signal.Signals(agreed).name
        if diverged:
            self.diverge("the training loss of another rank is not finite")
        return bool(agreed or diverged)

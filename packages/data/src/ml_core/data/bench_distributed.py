"""One rank of the 1 vs N device benchmark: a DDP training epoch on device-resident data.

    python -m torch.distributed.run --standalone --nproc-per-node N \\
        -m ml_core.data.bench_distributed DATA_DIR OUT_JSON \\
        [--device cpu|cuda] [--batch-size B] [--epochs E]

Every rank holds the whole train split on its device and takes its share of each global
batch of one seeded epoch (``config["distributed"]``, as in ``ml-train``); B is the
per-rank batch. Rank 0 writes the fastest timed
epoch's throughput to OUT_JSON. NCCL on CUDA, gloo on the CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from ml_core.contract import atomic_output
from ml_core.data.bench_training import TrainingStep, model_ready
from ml_core.data.device_loader import get_device_dataloaders
from ml_core.data.device_split import Batch
from ml_core.data.loader import resumable_sampler


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ml_core.data.bench_distributed",
        description="One rank of the 1 vs N device DDP training benchmark.",
    )
    parser.add_argument("data_dir", type=Path, help="PCAM directory to train on")
    parser.add_argument("out_json", type=Path, help="rank 0 writes its result here")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="one device per rank (default cpu)")  # fmt: skip
    parser.add_argument("--batch-size", type=int, default=32,
                        help="per-rank batch size (default 32)")  # fmt: skip
    parser.add_argument("--epochs", type=int, default=1,
                        help="timed epochs after one warm-up (default 1)")  # fmt: skip
    return parser.parse_args(argv)


def _timed_epoch(loader: Iterable[Batch], step: TrainingStep) -> float:
    """Seconds of one epoch of this rank, between barriers (the slowest rank counts)."""
    dist.barrier()
    if step.device.type == "cuda":
        torch.cuda.synchronize(step.device)
    started = time.perf_counter()
    for raw_images, raw_labels in loader:
        step(*model_ready(raw_images, raw_labels, step.device))
    if step.device.type == "cuda":
        torch.cuda.synchronize(step.device)
    dist.barrier()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    """Run this rank (environment from torchrun: RANK, WORLD_SIZE, LOCAL_RANK)."""
    args = _arguments(argv)
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    device = torch.device("cpu")
    if args.device == "cuda":
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        config = {
            "seed": 0,
            "data": {"data_path": str(args.data_dir), "batch_size": args.batch_size},
            "distributed": {"rank": rank, "world_size": world_size},
        }
        train, _ = get_device_dataloaders(config, device)
        sampler = resumable_sampler(train)  # type: ignore[arg-type]  # duck-typed
        step = TrainingStep(device)
        ddp = DistributedDataParallel(
            step.model, device_ids=[device.index] if device.type == "cuda" else None
        )
        step.model = ddp
        timings = []
        for epoch in range(args.epochs + 1):
            sampler.set_epoch(epoch)
            timings.append(_timed_epoch(train, step))
        seconds = min(timings[1:])
        if rank == 0:
            # Equal shares on every rank (the short last global batch is cut so).
            samples = world_size * sum(len(batch) for batch in iter(sampler))
            result = {
                "world_size": world_size,
                "device": args.device,
                "samples": samples,
                "epoch_seconds": seconds,
                "samples_per_second": samples / seconds,
            }
            with atomic_output(args.out_json) as temp_path:
                temp_path.write_text(json.dumps(result) + "\n")
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())

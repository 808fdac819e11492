"""The train batch order: seeded by (seed, epoch), resumable, balanced, rank-sharded.

Each global batch is cut into equal, contiguous shares, one per rank (a short last one
loses ``len % world_size`` positions), so DDP's mean of the ranks' mean gradients is the
global batch's; run in the main process, the order cannot depend on loader workers.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import Sampler

from ml_core.contract import ConfigError


class EpochBatchSampler(Sampler[torch.Tensor]):
    """This rank's position tensor of each batch of the current epoch, drawn on
    ``device``: balanced like ``WeightedRandomSampler`` (inverse class frequency, with
    replacement, ``len(labels)`` per epoch), else a seeded shuffle."""

    def __init__(
        self,
        labels: np.ndarray,
        batch_size: int,
        *,
        seed: int = 0,
        balance: bool = True,
        rank: int = 0,
        world_size: int = 1,
        device: torch.device | None = None,
    ) -> None:
        super().__init__()
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not a rank of world_size {world_size}")
        self.num_samples = len(labels)
        self.global_batch_size = batch_size * world_size
        if self.global_batch_size > self.num_samples:
            raise ConfigError(
                f"data.batch_size: a batch of {self.global_batch_size} samples is "
                f"larger than the train split ({self.num_samples} samples); use at "
                f"most {self.num_samples}"
            )
        self.batch_size, self.seed, self.balance = batch_size, seed, balance
        self.rank, self.world_size = rank, world_size
        self.device = torch.device("cpu") if device is None else device
        self.epoch = 0
        self._skip = 0
        self._weights = (
            torch.from_numpy(1.0 / np.bincount(labels)[labels]).to(self.device)
            if balance
            else None
        )

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose order the next iteration yields."""
        if epoch < 0:
            raise ValueError(f"epoch must be non-negative, got {epoch}")
        self.epoch = epoch

    def skip_batches(self, n: int) -> None:
        """Start the next iteration at batch ``n`` of the current epoch."""
        if not 0 <= n <= len(self):
            raise ValueError(f"skip_batches: n must be in [0, {len(self)}], got {n}")
        self._skip = n

    def epoch_order(self) -> torch.Tensor:
        """Every position drawn in the current epoch (all ranks'), in order."""
        # A generator state that is a well-mixed function of (seed, epoch).
        mixed = np.random.SeedSequence([self.seed, self.epoch])
        state = int(mixed.generate_state(1, dtype=np.uint64)[0]) & (2**63 - 1)
        generator = torch.Generator(device=self.device).manual_seed(state)
        if self._weights is None:
            return torch.randperm(
                self.num_samples, generator=generator, device=self.device
            )
        return torch.multinomial(
            self._weights, self.num_samples, replacement=True, generator=generator
        )

    def __len__(self) -> int:
        full, rest = divmod(self.num_samples, self.global_batch_size)
        return full + (1 if rest >= self.world_size else 0)

    def __iter__(self) -> Iterator[torch.Tensor]:
        # Read and reset the skip now, not lazily on the first next().
        first, self._skip = self._skip, 0
        return self._batches(self.epoch_order(), first)

    def _batches(self, order: torch.Tensor, first: int) -> Iterator[torch.Tensor]:
        for index in range(first, len(self)):
            start = index * self.global_batch_size
            batch = order[start : start + self.global_batch_size]
            share = len(batch) // self.world_size
            yield batch[self.rank * share : (self.rank + 1) * share]

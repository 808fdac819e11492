"""A seeded, resumable batch sampler: the order depends only on (seed, epoch).

It runs in the main process (DataLoader workers only receive index lists), so the
number of workers cannot change the order. Balanced mode draws like
``WeightedRandomSampler``: inverse class frequency weights, with replacement,
``len(dataset)`` samples per epoch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import Sampler

from ml_core.data.errors import DataConfigError


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """A torch.Generator whose state is a well-mixed function of (seed, epoch)."""
    state = np.random.SeedSequence([seed, epoch]).generate_state(1, dtype=np.uint64)
    return torch.Generator().manual_seed(int(state[0]) & (2**63 - 1))


def inverse_frequency_weights(labels: np.ndarray) -> torch.Tensor:
    """Per-sample weight 1 / (count of its class): every class is drawn equally often."""
    counts = np.bincount(labels)
    return torch.from_numpy(1.0 / counts[labels])


def refuse_oversized_batch(global_batch: int, num_samples: int) -> None:
    """A train batch larger than the split would make every epoch one partial batch."""
    if global_batch > num_samples:
        raise DataConfigError(
            f"data.batch_size: a batch of {global_batch} samples is larger than the "
            f"train split ({num_samples} samples); use at most {num_samples}"
        )


class ResumableBatchSampler(Sampler[list[int]]):
    """Yields lists of dataset positions, one per batch (last batch may be short).

    Call :meth:`set_epoch` before each epoch; :meth:`skip_batches` makes the next
    iteration start at batch ``n`` of the current epoch (then it resets to 0).
    """

    def __init__(
        self,
        labels: np.ndarray,
        batch_size: int,
        *,
        seed: int = 0,
        balance: bool = True,
    ) -> None:
        super().__init__()
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if seed < 0:
            raise ValueError(f"seed must be non-negative, got {seed}")
        refuse_oversized_batch(batch_size, len(labels))
        self.num_samples = len(labels)
        self.batch_size = batch_size
        self.seed = seed
        self.balance = balance
        self.epoch = 0
        self._skip = 0
        self._weights = inverse_frequency_weights(labels) if balance else None

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
        """Every position drawn in the current epoch, in order."""
        generator = epoch_generator(self.seed, self.epoch)
        if self._weights is None:
            return torch.randperm(self.num_samples, generator=generator)
        return torch.multinomial(
            self._weights, self.num_samples, replacement=True, generator=generator
        )

    def __len__(self) -> int:
        return math.ceil(self.num_samples / self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        # Read and reset the skip now, not lazily on the first next().
        first, self._skip = self._skip, 0
        order = self.epoch_order()
        return self._batches(order, first)

    def _batches(self, order: torch.Tensor, first: int) -> Iterator[list[int]]:
        for start in range(first * self.batch_size, self.num_samples, self.batch_size):
            yield order[start : start + self.batch_size].tolist()

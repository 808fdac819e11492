"""Train batches for data-parallel training: each rank's disjoint share of one epoch.

Every rank draws the same seeded epoch (balanced or shuffled, exactly as
:class:`~ml_core.data.sampler.ResumableBatchSampler` does from (seed, epoch)), cuts it
into global batches of ``batch_size * world_size`` and keeps its contiguous part of
each: rank ``r`` takes positions ``[r * batch_size, (r + 1) * batch_size)``. So
``world_size`` ranks with batch ``B`` see, step by step, exactly the samples one process
with batch ``world_size * B`` sees, and every rank has the same number of batches.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ml_core.data.errors import DataConfigError
from ml_core.data.sampler import ResumableBatchSampler, refuse_oversized_batch


@dataclass(frozen=True)
class RankShare:
    """This process's place among the data-parallel ranks."""

    rank: int = 0
    world_size: int = 1

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RankShare:
        """``config["distributed"] = {"rank": r, "world_size": w}``; absent: one rank."""
        section = config.get("distributed")
        if section is None:
            return cls()
        if not isinstance(section, Mapping) or set(section) != {"rank", "world_size"}:
            raise DataConfigError(
                "distributed: expected a mapping with exactly rank and world_size, "
                f"got {section!r}"
            )
        rank, world = section["rank"], section["world_size"]
        for name, value in (("rank", rank), ("world_size", world)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise DataConfigError(
                    f"distributed.{name}: expected an integer, got {value!r}"
                )
        if world < 1 or not 0 <= rank < world:
            raise DataConfigError(
                f"distributed.rank: {rank} is not a rank of world_size {world}"
            )
        return cls(rank, world)


class DistributedBatchSampler(ResumableBatchSampler):
    """This rank's batches of a seeded (balanced) epoch shared by ``world_size`` ranks.

    ``batch_size`` is per rank. The epoch's last global batch, when short, loses its
    last ``len % world_size`` samples and is split into equal shares: DDP averages the
    ranks' mean gradients, which equals the global batch's mean gradient only for equal
    shares. (With fewer samples than ranks it is dropped.) :meth:`set_epoch` and
    :meth:`skip_batches` work as in the parent class and must be called with the same
    values on every rank.
    """

    def __init__(
        self,
        labels: np.ndarray,
        batch_size: int,
        share: RankShare,
        *,
        seed: int = 0,
        balance: bool = True,
    ) -> None:
        super().__init__(labels, batch_size, seed=seed, balance=balance)
        self.share = share
        self.global_batch_size = batch_size * share.world_size
        refuse_oversized_batch(self.global_batch_size, self.num_samples)

    def __len__(self) -> int:
        full, rest = divmod(self.num_samples, self.global_batch_size)
        return full + (1 if rest >= self.share.world_size else 0)

    def _batches(self, order: torch.Tensor, first: int) -> Iterator[list[int]]:
        rank, world = self.share.rank, self.share.world_size
        for index in range(first, len(self)):
            start = index * self.global_batch_size
            batch = order[start : start + self.global_batch_size]
            share = len(batch) // world
            yield batch[rank * share : (rank + 1) * share].tolist()

"""The sampler's rank shares: disjoint parts of one seeded epoch's global batches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ml_core.contract import ConfigError
from ml_core.data import EpochBatchSampler, get_dataloaders, resumable_sampler

LABELS = np.array([0] * 30 + [1] * 70)


def rank_batches(
    num_samples: int, batch_size: int, world: int, epoch: int = 3
) -> list[list[list[int]]]:
    samplers = [
        EpochBatchSampler(
            LABELS[:num_samples], batch_size, seed=5, rank=rank, world_size=world
        )
        for rank in range(world)
    ]
    for sampler in samplers:
        sampler.set_epoch(epoch)
    return [[batch.tolist() for batch in sampler] for sampler in samplers]


def single_batches(num_samples: int, batch_size: int) -> list[list[int]]:
    sampler = EpochBatchSampler(LABELS[:num_samples], batch_size, seed=5)
    sampler.set_epoch(3)
    return [batch.tolist() for batch in sampler]


def test_ranks_see_exactly_what_one_process_with_the_global_batch_sees() -> None:
    two = rank_batches(96, 8, 2)
    one = single_batches(96, 16)
    assert len(two[0]) == len(two[1]) == len(one) == 6
    for step, batch in enumerate(one):
        assert two[0][step] + two[1][step] == batch


def test_short_last_batch_is_split_into_equal_shares() -> None:
    two = rank_batches(100, 8, 2)  # 6 full global batches + 4 samples
    assert [len(batch) for batch in two[0]] == [8] * 6 + [2]
    assert [len(batch) for batch in two[1]] == [8] * 6 + [2]
    # 5 left over: equal shares of 2 (DDP's mean of means is then the global mean).
    odd = rank_batches(101, 8, 2)
    assert [len(odd[0][-1]), len(odd[1][-1])] == [2, 2]
    assert odd[0][-1] + odd[1][-1] == single_batches(101, 16)[-1][:4]
    three = rank_batches(97, 16, 3)  # 2 full global batches + 1 sample (< 3 ranks)
    assert [len(ranks) for ranks in three] == [2, 2, 2]


def test_balanced_draw_depends_on_epoch_and_skip_resumes() -> None:
    assert rank_batches(96, 8, 2, epoch=1) != rank_batches(96, 8, 2, epoch=2)
    sampler = EpochBatchSampler(LABELS, 8, seed=5, rank=1, world_size=2)
    sampler.set_epoch(3)
    full = [batch.tolist() for batch in sampler]
    sampler.skip_batches(4)
    assert [batch.tolist() for batch in sampler] == full[4:]
    assert [batch.tolist() for batch in sampler] == full  # the skip applies once


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ({"rank": 2, "world_size": 2}, "distributed.rank"),
        ({"rank": 0, "world_size": "2"}, "distributed.world_size"),
        ({"rank": 0}, "distributed:"),
    ],
)
def test_bad_distributed_section_is_refused(
    section: dict, problem: str, tiny_pcam_dir: Path
) -> None:
    config = {"data": {"data_path": str(tiny_pcam_dir)}, "distributed": section}
    with pytest.raises(ConfigError, match=problem):
        get_dataloaders(config)


def test_get_dataloaders_shards_the_train_split(tiny_pcam_dir: Path) -> None:
    config = {"data": {"data_path": str(tiny_pcam_dir), "batch_size": 4}}
    single, single_valid = get_dataloaders(config)
    share, valid = get_dataloaders(
        {**config, "distributed": {"rank": 1, "world_size": 2}}
    )
    sampler = resumable_sampler(share)
    assert (sampler.rank, sampler.world_size) == (1, 2)
    assert len(share) == len(single) // 2
    sampler.set_epoch(1)
    images, labels = next(iter(share))
    assert images.shape[0] == labels.shape[0] == 4
    assert len(valid) == len(single_valid)  # every rank validates on the whole split

"""Checkpoint files and generator states: atomic, weights_only-loadable, exact."""

from __future__ import annotations

import pickle
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from ml_core.train import CheckpointError, load_checkpoint, save_checkpoint
from ml_core.train._seeding import capture_rng_state, restore_rng_state


def _draws() -> tuple[float, float, list[float]]:
    generator = np.random.default_rng(random.randrange(2**32))  # follows python's state
    return (
        random.random(),
        float(np.random.random()),  # noqa: NPY002 (the legacy global generator is tested)
        [*torch.rand(3).tolist(), generator.random()],
    )


def test_rng_state_restores_every_generator(tmp_path: Path) -> None:
    torch.manual_seed(0)
    state = capture_rng_state()
    save_checkpoint(tmp_path / "rng.pt", {"rng": state})
    expected = _draws()
    _draws()
    restore_rng_state(load_checkpoint(tmp_path / "rng.pt")["rng"])
    assert _draws() == expected


def test_checkpoint_round_trip_with_weights_only(tmp_path: Path) -> None:
    model = torch.nn.Linear(4, 2)
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.ones(1, 4)).sum().backward()
    optimizer.step()
    path = tmp_path / "last.pt"
    save_checkpoint(
        path,
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "epoch": 2,
            "metrics": [{"epoch": 1, "val_loss": 0.5}],
            "best": {"metric": "val_auroc", "value": None},
        },
    )
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == 2
    assert len(raw["checksum"]) == 64  # sha256 of the payload
    loaded = load_checkpoint(path)
    assert torch.equal(loaded["model"]["weight"], model.weight.detach())
    assert loaded["metrics"] == [{"epoch": 1, "val_loss": 0.5}]
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temp files left


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"epoch": 1})
    with pytest.raises((pickle.PicklingError, AttributeError)):
        save_checkpoint(path, {"epoch": 2, "unpicklable": lambda: None})
    assert load_checkpoint(path)["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not a checkpoint", "cannot load"), (None, "not found")],
    ids=["garbage", "missing"],
)
def test_bad_checkpoint_is_a_checkpoint_error(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "last.pt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_foreign_pickle_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(CheckpointError, match="not an ml_core checkpoint"):
        load_checkpoint(path)

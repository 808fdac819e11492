"""``training.compile``: a torch.compile'd run trains like an eager one and its
checkpoints load into a plain model."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_core.models import build_model
from ml_core.train import load_checkpoint

from .conftest import read_metrics, run_cli, run_directory_line, small_run_overrides


@pytest.mark.slow
def test_compiled_run_matches_eager_and_saves_plain_checkpoints(
    train_data_dir: Path, tmp_path: Path
) -> None:
    rows = {}
    for compiled in ("false", "true"):
        overrides = small_run_overrides(
            train_data_dir,
            f"compile-{compiled}",
            "training.epochs=1",
            "model.dropout_rate=0.0",  # compiled kernels draw other dropout masks
            f"training.compile={compiled}",
        )
        result = run_cli("ml-train", overrides, cwd=tmp_path, timeout=300)
        assert result.returncode == 0, result.stderr
        run_dir = tmp_path / run_directory_line(result.stdout)
        rows[compiled] = read_metrics(run_dir)[0]
    for column in ("train_loss", "val_loss", "val_auroc"):
        assert float(rows["true"][column]) == pytest.approx(
            float(rows["false"][column]), rel=1e-3
        ), column

    record = load_checkpoint(run_dir / "checkpoints" / "best.pt")
    model = build_model({"hidden_units": [16], "dropout_rate": 0.0}, (3, 96, 96))
    model.load_state_dict(record["model"])  # strict: no "_orig_mod." prefixes

"""``training.compile``: a torch.compile'd run (MLP and CNN) trains like an eager one
and its checkpoints load into a plain model."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_core.models import build_model
from ml_core.train import load_checkpoint

from .conftest import read_metrics, run_cli, run_directory_line, run_overrides

# The CNN is narrow here: compiling its kernels on this CPU takes seconds per width.
MODELS = {
    "mlp": {"hidden_units": [16], "dropout_rate": 0.0},
    "cnn": {"name": "cnn", "widths": [4, 8], "dropout_rate": 0.0},
}


@pytest.mark.slow
@pytest.mark.parametrize("model_name", list(MODELS))
def test_compiled_run_matches_eager_and_saves_plain_checkpoints(
    train_data_dir: Path, tmp_path: Path, model_name: str
) -> None:
    model_options = MODELS[model_name]
    rows = {}
    for compiled in ("false", "true"):
        overrides = run_overrides(
            train_data_dir,
            f"compile-{compiled}",
            "training.epochs=1",
            # dropout off: compiled kernels draw other dropout masks
            *(f"model.{key}={value}" for key, value in model_options.items()),
            f"training.compile={compiled}",
        )
        result = run_cli("ml-train", overrides, cwd=tmp_path, timeout=300)
        assert result.returncode == 0, result.stderr
        run_dir = tmp_path / run_directory_line(result.stdout)
        rows[compiled] = read_metrics(run_dir)[0]
    # Compiled kernels fuse and reorder float32 arithmetic. Measured here after one
    # epoch: the MLP's metrics identical, the CNN's losses 2.4e-6 apart (relative); 1e-4
    # leaves room for other CPUs' kernels yet catches a real difference (another model or
    # optimizer step moves these by more than 1e-2).
    for column in ("train_loss", "val_loss", "val_auroc"):
        assert float(rows["true"][column]) == pytest.approx(
            float(rows["false"][column]), rel=1e-4
        ), column

    record = load_checkpoint(run_dir / "checkpoints" / "best.pt")
    model = build_model(model_options, (3, 96, 96))
    model.load_state_dict(record["model"])  # strict: no "_orig_mod." prefixes

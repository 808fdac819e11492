"""``ml_core.viz`` and ``ml_core.eda`` are plain, eager public faces; viz loads no torch."""

from __future__ import annotations

import subprocess
import sys

import ml_core.eda
import ml_core.viz


def test_every_public_name_is_there_eagerly() -> None:
    assert sorted(ml_core.viz.__all__) == [
        "CLASS_COLORS",
        "CLASS_NAMES",
        "RunReport",
        "VizInputError",
        "build_curves_figure",
        "build_report",
        "figure_to_png",
        "plot_curves",
        "write_report",
    ]
    assert ml_core.eda.__all__ == ["EdaOptions", "run_eda"]
    assert not hasattr(ml_core.viz, "__getattr__")
    for name in ml_core.viz.__all__:
        assert name in vars(ml_core.viz), name


def test_import_loads_no_torch() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, ml_core.viz; print('torch' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout == "False\n"

"""``ml_core.viz`` is a plain, eager public face: its ``__all__``, no torch on import."""

from __future__ import annotations

import subprocess
import sys

import ml_core.viz


def test_every_public_name_is_there_eagerly() -> None:
    assert sorted(ml_core.viz.__all__) == [
        "EdaOptions",
        "RunReport",
        "VizInputError",
        "build_curves_figure",
        "build_report",
        "plot_curves",
        "run_eda",
        "write_report",
    ]
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

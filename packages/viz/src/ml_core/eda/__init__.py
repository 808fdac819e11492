"""Figures and a summary of a PCAM-format data directory (``ml-viz eda``); apart from
ml_core.viz because it reads the data through ml_core.data (and so imports torch)."""

from ml_core.cli.viz import EdaOptions
from ml_core.eda._run import run_eda

__all__ = ["EdaOptions", "run_eda"]

"""Exploratory figures and a summary of a PCAM-format data directory (``ml-viz eda``).

Separate from :mod:`ml_core.viz` because it reads the data through :mod:`ml_core.data`
(and so imports torch); the run plots and reports need neither.
"""

from ml_core.cli.viz import EdaOptions
from ml_core.eda._run import run_eda

__all__ = ["EdaOptions", "run_eda"]

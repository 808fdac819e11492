"""The course's ``ml_core.utils``: tracker, logger, config and seeding helpers.

A facade only: modules ``ml_core.utils.logging`` and ``ml_core.utils.tracker`` as in the
course skeleton, over the implementations in :mod:`ml_core.train`.
"""

from ml_core.utils.logging import load_config, seed_everything, setup_logger
from ml_core.utils.tracker import ExperimentTracker

__all__ = ["ExperimentTracker", "load_config", "seed_everything", "setup_logger"]

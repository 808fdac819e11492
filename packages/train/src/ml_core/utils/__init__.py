"""Course facade: tracker, config, seeding and logging helpers over :mod:`ml_core.train`."""

from ml_core.train.config_files import load_config
from ml_core.train.logs import setup_logger
from ml_core.train.seeding import seed_everything
from ml_core.train.tracking import ExperimentTracker

__all__ = ["ExperimentTracker", "load_config", "seed_everything", "setup_logger"]

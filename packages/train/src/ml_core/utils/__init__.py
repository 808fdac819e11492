"""The course's ``ml_core.utils`` (tracker, logger, config and seeding helpers): a
facade with the course skeleton's modules over the implementations in ml_core.train."""

from ml_core.utils.logging import load_config, seed_everything, setup_logger
from ml_core.utils.tracker import ExperimentTracker

__all__ = ["ExperimentTracker", "load_config", "seed_everything", "setup_logger"]

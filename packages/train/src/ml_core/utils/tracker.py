"""The course's ``ml_core.utils.tracker``: :class:`ExperimentTracker` (from ml_core.train)."""

from ml_core.train import ExperimentTracker

__all__ = ["ExperimentTracker"]

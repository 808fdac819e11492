"""Course facade: ``ml_core.solver.Trainer`` over :mod:`ml_core.train`."""

from ml_core.train.course_trainer import Trainer

__all__ = ["Trainer"]

"""The course's ``ml_core.solver``: :class:`Trainer` (module ``ml_core.solver.trainer``)."""

from ml_core.solver.trainer import Trainer

__all__ = ["Trainer"]

"""Course facade: ``ml_core.solver.Trainer`` over :mod:`ml_core.train`."""

__all__: list[str] = []

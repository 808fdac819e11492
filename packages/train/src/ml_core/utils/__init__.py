"""Course facade: tracker, config, seeding and logging helpers over :mod:`ml_core.train`."""

__all__: list[str] = []

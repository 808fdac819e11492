"""The course's ``ml_core.utils.logging``: logger setup, config loading and seeding.

Thin: the implementations live in :mod:`ml_core.train` (``setup_logger`` in its logs,
``load_config`` in its config reader, ``seed_everything`` in its seeding).
"""

from ml_core.train import load_config, seed_everything, setup_logger

__all__ = ["load_config", "seed_everything", "setup_logger"]

"""The course's ``ml_core.utils.logging``: logger setup, config loading and seeding."""

from ml_core.train import load_config, seed_everything, setup_logger

__all__ = ["load_config", "seed_everything", "setup_logger"]

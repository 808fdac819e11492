"""Logging setup: one stderr handler with timestamps (the course's ``setup_logger``)."""

from __future__ import annotations

import logging
import sys

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logger(name: str = "ml_core", level: int = logging.INFO) -> logging.Logger:
    """The logger ``name`` writing to stderr; adds its handler only once."""
    logger = logging.getLogger(name)
    logger.setLevel(level)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT, "%Y-%m-%d %H:%M:%S"))
        logger.addHandler(handler)
        logger.propagate = False
    return logger

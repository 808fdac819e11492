"""The exception of ml_core.data (bad config values are ``ml_core.contract.ConfigError``)."""

from __future__ import annotations


class DataError(Exception):
    """A data directory, file, key, shape or label set is unusable (the message names
    the file or directory and what is wrong with it)."""

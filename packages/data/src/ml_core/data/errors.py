"""Exception types of ml_core.data; the CLI turns them into one-line messages."""

from __future__ import annotations


class DataError(Exception):
    """A data directory, file, key, shape or label set is unusable.

    The message names the file (or directory) and what is wrong with it.
    """


class DataConfigError(DataError):
    """A ``config["data"]`` option is missing or invalid; the message starts with
    ``data.<key>:``."""

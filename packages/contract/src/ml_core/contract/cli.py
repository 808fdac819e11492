"""Command lines that fail in one line: usage errors and bad input, exit 2, no dump."""

from __future__ import annotations

import argparse
import reprlib
import sys
from collections.abc import Callable
from typing import NoReturn

from ml_core.contract.exit_codes import EXIT_BAD_INPUT

# Quoted values are cut here: an error about a huge value must stay one short line.
MAX_QUOTED_CHARS = 80


class OneLineArgumentParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line on stderr (exit 2), no usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def report_error(prog: str, error: object) -> None:
    """Print ``prog: error: <error>`` as one line on stderr."""
    text = " ".join(str(error).split())
    print(f"{prog}: error: {text}", file=sys.stderr)


def quoted(value: object) -> str:
    """A short ``repr`` of ``value`` for messages, at most :data:`MAX_QUOTED_CHARS`.

    Built with :mod:`reprlib`'s limits, never the whole repr: a YAML alias bomb's value
    is small in memory but expands to billions of characters.
    """
    text = _SHORT_REPR.repr(value)
    if len(text) <= MAX_QUOTED_CHARS:
        return text
    return f"{text[: MAX_QUOTED_CHARS - 3]}..."


_SHORT_REPR = reprlib.Repr()  # keyword arguments need Python 3.12
_SHORT_REPR.maxlevel, _SHORT_REPR.maxdict = 3, 4
_SHORT_REPR.maxlist = _SHORT_REPR.maxtuple = 6
_SHORT_REPR.maxstring, _SHORT_REPR.maxother = MAX_QUOTED_CHARS, 40


DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
"""Compute devices a command or config may name; ``auto`` = cuda > mps > cpu."""


def integer_at_least(minimum: int) -> Callable[[str], int]:
    """argparse ``type``: an integer >= ``minimum`` (a one-line usage error otherwise)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an integer, got {text!r}"
            ) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(
                f"expected an integer >= {minimum}, got {value}"
            )
        return value

    return parse

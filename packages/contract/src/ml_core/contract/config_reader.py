"""Typed reading of one config section, with errors that name the key and its source.

The data, model and training sections are all read with it; every check raises
:class:`ConfigError` with one line ``<source>: <section.key>: <problem>``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ml_core.contract.cli import quoted
from ml_core.contract.config_files import ConfigError

# PyYAML reads 1e-3 (no dot) as a string; accept such numbers for float keys.
_FLOAT_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _no_source(_dotted: str) -> str:
    return ""


class SectionReader:
    """Take typed values out of one mapping; :meth:`finish` rejects what is left.
    ``source_of(dotted key)`` names where a value came from (a file, ``--set``) in
    errors; by default nothing is named (a dict handed in by code)."""

    def __init__(
        self,
        raw: Any,
        prefix: str,
        source_of: Callable[[str], str] = _no_source,
    ) -> None:
        self.prefix = prefix
        self.source_of = source_of
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            self.fail_at(prefix.rstrip("."), f"expected a mapping, got {quoted(raw)}")
        self.remaining = dict(raw)
        self.known: list[str] = []

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def fail_at(self, dotted: str, problem: str) -> None:
        source = self.source_of(dotted)
        raise ConfigError(
            f"{source}: {dotted}: {problem}" if source else f"{dotted}: {problem}"
        )

    def fail(self, name: str, problem: str) -> None:
        self.fail_at(self.key(name), problem)

    def has(self, name: str) -> bool:
        return name in self.remaining

    def take(self, name: str, default: Any) -> Any:
        self.known.append(name)
        return self.remaining.pop(name, default)

    def integer(
        self,
        name: str,
        default: int | None,
        minimum: int | None = None,
        optional: bool = False,
        maximum: int | None = None,
    ) -> int | None:
        value = self.take(name, default)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            expected = "null or an integer" if optional else "an integer"
            self.fail(name, f"expected {expected}, got {quoted(value)}")
        if minimum is not None and value < minimum:
            self.fail(name, f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            self.fail(name, f"must be at most {maximum}, got {value}")
        return value

    def number(
        self,
        name: str,
        default: float | None,
        check: Callable[[float], bool] | None = None,
        expected: str = "a number",
        optional: bool = False,
    ) -> float | None:
        value = self.take(name, default)
        if value is None and optional:
            return None
        if isinstance(value, str) and _FLOAT_TEXT.fullmatch(value.strip()):
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(name, f"expected {expected}, got {quoted(value)}")
        value = float(value)
        if not math.isfinite(value) or (check is not None and not check(value)):
            self.fail(name, f"expected {expected}, got {quoted(value)}")
        return value

    def boolean(self, name: str, *, default: bool) -> bool:
        value = self.take(name, default)
        if not isinstance(value, bool):
            self.fail(name, f"expected true or false, got {quoted(value)}")
        return value

    def choice(self, name: str, default: str, choices: Sequence[str]) -> str:
        value = self.take(name, default)
        if value not in choices:
            self.fail(
                name, f"expected one of {', '.join(choices)}; got {quoted(value)}"
            )
        return value

    def text(
        self, name: str, default: str | None, optional: bool = False
    ) -> str | None:
        value = self.take(name, default)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value:
            self.fail(name, f"expected a non-empty string, got {quoted(value)}")
        return value

    def integers(
        self, name: str, default: Sequence[int], minimum: int = 1
    ) -> tuple[int, ...]:
        value = self.take(name, default)
        if not isinstance(value, list | tuple):
            self.fail(name, f"expected a list of integers, got {quoted(value)}")
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int) or item < minimum:
                self.fail(
                    name, f"expected integers >= {minimum}, got {quoted(list(value))}"
                )
        return tuple(value)

    def finish(self) -> None:
        if self.remaining:
            name = min(self.remaining, key=str)
            self.fail(str(name), f"unknown key (known: {', '.join(self.known)})")

"""Reading YAML configs into plain dicts and applying ``--set key.path=value`` overrides.

This layer only checks YAML syntax and shape; the sections' readers check meaning.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A config file, key or override is wrong; the message is one line naming it."""


MAX_CONFIG_BYTES = 1024 * 1024


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file into a plain dict (the course's ``load_config``).

    Refused as :func:`read_yaml_file` refuses, and a file with no keys.
    """
    loaded = read_yaml_file(path, "config file")
    if loaded is None:
        raise ConfigError(
            f"{path}: the config file is empty (or only comments); give at least "
            "one key, or run without --config for the defaults"
        )
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys")
    return loaded


def read_yaml_file(path: str | Path, what: str) -> Any:
    """The YAML value in a file a user hands in (``what`` names it in errors).

    Refused before parsing: anything but a regular file, more than 1 MiB (a config is
    a few hundred bytes), text that is not UTF-8 or holds NUL bytes; while parsing:
    invalid YAML and values nested too deeply for PyYAML's recursion.
    """
    path = Path(path)
    try:
        if not path.is_file():
            problem = "not found" if not path.exists() else "not a regular file"
            raise ConfigError(f"{path}: {what} {problem}")
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: {what} is {size:,} bytes, over the 1 MiB limit")
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read {what} ({error.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path}: not a UTF-8 text file (byte {error.start}); is it a YAML {what}?"
        ) from None
    if "\0" in text:
        raise ConfigError(f"{path}: binary data (NUL bytes); is it a YAML {what}?")
    return _parse_yaml(text, str(path))


def _parse_yaml(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{source}: invalid YAML{where}") from None
    except RecursionError:
        # PyYAML builds nested values recursively: [[[[...]]]] a thousand deep.
        raise ConfigError(f"{source}: values nested too deeply") from None


def parse_override(text: str) -> tuple[tuple[str, ...], Any]:
    """Split ``"training.epochs=3"`` into ``(("training", "epochs"), 3)``.

    The value is parsed as YAML, so ``3`` is an int, ``[64, 32]`` a list and ``null`` None.
    """
    key, separator, raw_value = text.partition("=")
    parts = tuple(key.strip().split("."))
    if not separator or not all(parts):
        raise ConfigError(f"--set {text}: expected key.path=value")
    try:
        value = _parse_yaml(raw_value, f"--set {key}") if raw_value.strip() else ""
    except ConfigError as error:
        problem = str(error).rpartition(": ")[2]
        raise ConfigError(f"--set {key}: {problem} in the value") from None
    return parts, value


def apply_overrides(
    raw: Mapping[str, Any], overrides: Sequence[str]
) -> tuple[dict[str, Any], set[str]]:
    """Return a copy of ``raw`` with every override applied, and the dotted keys set."""
    result = copy.deepcopy(dict(raw))
    touched = set()
    for text in overrides:
        parts, value = parse_override(text)
        section = result
        for depth, part in enumerate(parts[:-1]):
            child = section.setdefault(part, {})
            if not isinstance(child, dict):
                prefix = ".".join(parts[: depth + 1])
                raise ConfigError(f"--set {text}: {prefix} is not a section")
            section = child
        section[parts[-1]] = value
        touched.add(".".join(parts))
    return result, touched


def dotted_keys(
    tree: Mapping[str, Any], skip: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """``{"training": {"epochs": 3}}`` -> ``{"training.epochs": 3}`` in file order.

    Keys named in ``skip`` are left out at every level; an empty mapping is a value.
    """
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if key in skip:
            continue
        if isinstance(value, Mapping) and value:
            for inner, leaf in dotted_keys(value, skip).items():
                flat[f"{key}.{inner}"] = leaf
        else:
            flat[key] = value
    return flat

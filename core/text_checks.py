"""Text every database can store: no NUL in text columns (PostgreSQL refuses it) and no lone
surrogates anywhere (they are not Unicode characters and cannot be encoded as UTF-8)."""
from __future__ import annotations

import math
import re
from typing import Any

from core.masking import pointer

_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str, allow_nul: bool = False) -> str | None:
    if not allow_nul and "\x00" in value:
        return "must not contain NUL (\\u0000) characters"
    if _SURROGATE.search(value):
        return "contains an unpaired surrogate (\\ud800-\\udfff), which is not valid Unicode"
    return None


def json_kind(value: Any) -> str:
    """JSON Schema's name for a value's type: null, boolean, number, string, array or object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


# Deeper JSON than any real action needs; recursive code downstream (diffs, patches) stays safe.
MAX_DEPTH = 64


def json_problem(value: Any, path: str = "", as_pointer: bool = False) -> tuple[str, str] | None:
    """First (path, problem) in a JSON value: text no database can store in its strings and keys
    (NUL is fine inside JSON), numbers JSON cannot carry (NaN, Infinity, or too large for a
    double, which Python reads as infinity), and nesting past MAX_DEPTH. Paths are dotted, or JSON
    Pointers if `as_pointer`."""
    def name(parts: tuple) -> str:
        return pointer(tuple(str(p) for p in parts)) if as_pointer else ".".join(str(p) for p in parts)

    stack: list[tuple[tuple, Any]] = [((path,) if path else (), value)]
    while stack:
        where, node = stack.pop()
        if len(where) > MAX_DEPTH:
            return name(where[:MAX_DEPTH]), f"is nested more than {MAX_DEPTH} levels deep"
        if isinstance(node, str):
            if (p := text_problem(node, allow_nul=True)) is not None:
                return name(where), p
        elif isinstance(node, float) and not math.isfinite(node):
            return name(where), "must be a finite number (JSON has no NaN or Infinity, and 1e400 is too large)"
        elif isinstance(node, dict):
            for k, v in node.items():
                if isinstance(k, str) and (p := text_problem(k, allow_nul=True)) is not None:
                    return name(where) or "(key)", "a key " + p
                stack.append(((*where, k), v))
        elif isinstance(node, list):
            stack.extend(((*where, i), v) for i, v in enumerate(node))
    return None

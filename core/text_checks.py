"""Text every database can store: no NUL in text columns (PostgreSQL refuses it) and no lone
surrogates anywhere (they are not Unicode characters and cannot be encoded as UTF-8)."""
from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str, allow_nul: bool = False) -> str | None:
    if not allow_nul and "\x00" in value:
        return "must not contain NUL (\\u0000) characters"
    if _SURROGATE.search(value):
        return "contains an unpaired surrogate (\\ud800-\\udfff), which is not valid Unicode"
    return None


def json_problem(value: Any, path: str = "") -> tuple[str, str] | None:
    """First (path, problem) in a JSON value's strings and keys. NUL is fine inside JSON."""
    stack = [(path, value)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, str):
            if (p := text_problem(node, allow_nul=True)) is not None:
                return where, p
        elif isinstance(node, dict):
            for k, v in node.items():
                child = f"{where}.{k}" if where else str(k)
                if (p := text_problem(k, allow_nul=True)) is not None:
                    return where or "(key)", "a key " + p
                stack.append((child, v))
        elif isinstance(node, list):
            stack.extend((f"{where}.{i}", v) for i, v in enumerate(node))
    return None

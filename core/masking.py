"""Masked payload fields. One path syntax, JSON Pointer (RFC 6901): `/customer/ssn`, and `/a.b` for
a key that contains a dot. Every surface a reviewer sees is built from `masked()`, and every edit
from such a surface passes through `restore()`, so a masked value is never shown and never changed there."""
from __future__ import annotations

import copy
from typing import Any

MASK = "••••••"
Path = tuple[str, ...]


def parse(pointer: str) -> Path:
    """`/customer/ssn` → ("customer", "ssn"). Raises ValueError naming the fix."""
    if not isinstance(pointer, str) or not pointer.startswith("/"):
        hint = "/" + "/".join(str(pointer).split(".")) if isinstance(pointer, str) and pointer else "/field"
        raise ValueError(f"{pointer!r} is not a JSON Pointer: write {hint!r} (a key containing a dot is "
                         "written as is, e.g. '/a.b'; '/' inside a key is '~1' and '~' is '~0')")
    parts = pointer[1:].split("/")
    for part in parts:
        if "~" in part.replace("~0", "").replace("~1", ""):
            raise ValueError(f"{pointer!r}: '~' must be written '~0' (and '/' inside a key '~1')")
    return tuple(p.replace("~1", "/").replace("~0", "~") for p in parts)


def pointer(path: Path) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)


def paths(route: dict[str, Any]) -> list[Path]:
    """The masks recorded on an action. Actions routed before pointers were the syntax hold dotted paths."""
    out = []
    for raw in route.get("mask_fields") or []:
        out.append(parse(raw) if raw.startswith("/") else tuple(raw.split(".")))
    return out


def covers(masks: list[Path], path: Path) -> bool:
    """True when `path` is masked: a mask on a parent hides everything under it."""
    return any(path[: len(m)] == m for m in masks)


def _child(node: Any, key: str) -> tuple[bool, Any]:
    if isinstance(node, dict):
        return (key in node), node.get(key)
    if isinstance(node, list) and key.isdigit() and int(key) < len(node):
        return True, node[int(key)]
    return False, None


def _put(node: Any, key: str, value: Any) -> None:
    if isinstance(node, dict):
        node[key] = value
    else:
        node[int(key)] = value


def masked(value: Any, masks: list[Path]) -> Any:
    """A deep copy with every masked value replaced by MASK."""
    out = copy.deepcopy(value)
    for m in masks:
        node = out
        for key in m[:-1]:
            found, node = _child(node, key)
            if not found:
                break
        else:
            if m and _child(node, m[-1])[0]:
                _put(node, m[-1], MASK)
    return out


def restore(edited: Any, original: Any, masks: list[Path]) -> tuple[Any, list[tuple[str, str]]]:
    """`edited` with every masked value put back from `original`, and (pointer, problem) for masked
    values the edit tried to take away by replacing what holds them."""
    out = copy.deepcopy(edited)
    problems: list[tuple[str, str]] = []
    for m in masks:
        node, node_out = original, out
        for depth, key in enumerate(m):
            found, node = _child(node, key)
            if not found:
                break  # nothing masked to keep here
            if depth == len(m) - 1:
                if isinstance(node_out, list) and int(key) >= len(node_out):
                    problems.append((pointer(m), "is masked and cannot be removed here"))
                else:
                    _put(node_out, key, copy.deepcopy(node))
                break
            present, next_out = _child(node_out, key)
            if not present or type(next_out) is not type(node):
                problems.append((pointer(m[: depth + 1]), f"holds the masked field {pointer(m)}, "
                                                          "which cannot be removed or replaced here"))
                break
            node_out = next_out
    return out, problems


def masked_patch(patch: list[dict[str, Any]] | None, masks: list[Path]) -> list[dict[str, Any]] | None:
    """An RFC 6902 patch whose values hide what `masks` hide (paths stay: they name fields, not values)."""
    if not patch or not masks:
        return patch
    out = []
    for op in patch:
        op = dict(op)
        if "value" in op:
            where = parse(op["path"]) if op.get("path") else ()
            if covers(masks, where):
                op["value"] = MASK
            elif inner := [m[len(where):] for m in masks if len(m) > len(where) and m[:len(where)] == where]:
                op["value"] = masked(op["value"], inner)
        out.append(op)
    return out

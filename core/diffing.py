"""What a reviewer changed: an RFC 6902 JSON Patch for machines and a text diff for people."""
from __future__ import annotations

import difflib
import json
from typing import Any

import jsonpatch

from core.masking import covers


def json_patch(before: Any, after: Any) -> list[dict[str, Any]]:
    return jsonpatch.make_patch(before, after).patch


def before_and_after(proposed: dict[str, Any], patches: list[list[dict[str, Any]]]) -> tuple[dict, dict]:
    """The payload before and after the last of `patches`, each applied to the one before it."""
    before = after = proposed
    for patch in patches:
        before, after = after, jsonpatch.apply_patch(after, patch)
    return before, after


def _leaves(obj: Any, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    if isinstance(obj, dict) and obj:
        out: dict[tuple[str, ...], Any] = {}
        for k, v in obj.items():
            out.update(_leaves(v, (*prefix, str(k))))
        return out
    return {prefix: obj}


def _show(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False)


def changes(before: Any, after: Any) -> list[tuple[tuple[str, ...], Any, Any]]:
    """(path, old, new) of every changed leaf, in path order; ABSENT stands for a missing side."""
    old, new = _leaves(before), _leaves(after)
    found = []
    for path in sorted(old.keys() | new.keys()):
        a, b = old.get(path, ABSENT), new.get(path, ABSENT)
        if not (a == b and type(a) is type(b)):
            found.append((path, a, b))
    return found


def text_diff(before: dict[str, Any], after: dict[str, Any]) -> str:
    """One block per changed field: a line diff for strings, `old → new` for everything else."""
    blocks: list[str] = []
    for path, a, b in changes(before, after):
        field = ".".join(path)
        if a is ABSENT:
            blocks.append(f"{field}: added {_show(b)}")
        elif b is ABSENT:
            blocks.append(f"{field}: removed (was {_show(a)})")
        elif isinstance(a, str) and isinstance(b, str):
            lines = difflib.unified_diff(a.splitlines() or [""], b.splitlines() or [""], lineterm="", n=1)
            body = [ln for ln in lines if not ln.startswith(("---", "+++", "@@"))]
            blocks.append(f"{field}:\n" + "\n".join(body))
        else:
            blocks.append(f"{field}: {_show(a)} → {_show(b)}")
    return "\n".join(blocks)


def change_summary(before: Any, after: Any, masks: list[tuple[str, ...]], limit: int = 5) -> str:
    """One short line of what changed, for a notice: `amount 900 → 600, note edited`. A masked
    field is named, never shown."""
    parts = []
    for path, a, b in changes(before, after):
        field = ".".join(path) or "(payload)"
        if covers(masks, path):
            parts.append(f"{field} (masked) edited")
        elif a is ABSENT:
            parts.append(f"{field} added")
        elif b is ABSENT:
            parts.append(f"{field} removed")
        elif all(not isinstance(v, str) or len(v) <= 40 for v in (a, b)) and len(_show(a) + _show(b)) <= 90:
            parts.append(f"{field} {_show(a)} → {_show(b)}")
        else:
            parts.append(f"{field} edited")
    more = f", and {len(parts) - limit} more" if len(parts) > limit else ""
    return ", ".join(parts[:limit]) + more


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


ABSENT = _Absent()

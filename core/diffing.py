"""What a reviewer changed: an RFC 6902 JSON Patch for machines and a text diff for people."""
from __future__ import annotations

import difflib
import json
from typing import Any

import jsonpatch


def json_patch(before: Any, after: Any) -> list[dict[str, Any]]:
    return jsonpatch.make_patch(before, after).patch


def before_and_after(proposed: dict[str, Any], patches: list[list[dict[str, Any]]]) -> tuple[dict, dict]:
    """The payload before and after the last of `patches`, each applied to the one before it."""
    before = after = proposed
    for patch in patches:
        before, after = after, jsonpatch.apply_patch(after, patch)
    return before, after


def _leaves(obj: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(obj, dict) and obj:
        out: dict[str, Any] = {}
        for k, v in obj.items():
            out.update(_leaves(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: obj}


def _show(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False)


def text_diff(before: dict[str, Any], after: dict[str, Any]) -> str:
    """One block per changed field: a line diff for strings, `old → new` for everything else."""
    old, new = _leaves(before), _leaves(after)
    blocks: list[str] = []
    for field in sorted(old.keys() | new.keys()):
        a, b = old.get(field, _ABSENT), new.get(field, _ABSENT)
        if a == b and type(a) is type(b):
            continue
        if a is _ABSENT:
            blocks.append(f"{field}: added {_show(b)}")
        elif b is _ABSENT:
            blocks.append(f"{field}: removed (was {_show(a)})")
        elif isinstance(a, str) and isinstance(b, str):
            lines = difflib.unified_diff(a.splitlines() or [""], b.splitlines() or [""], lineterm="", n=1)
            body = [ln for ln in lines if not ln.startswith(("---", "+++", "@@"))]
            blocks.append(f"{field}:\n" + "\n".join(body))
        else:
            blocks.append(f"{field}: {_show(a)} → {_show(b)}")
    return "\n".join(blocks)


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


_ABSENT = _Absent()

"""What an edited payload must keep. With a `payload_schema`, the schema says; without one, every
field keeps its JSON type and stays, unless the edit names it as removed on purpose."""
from __future__ import annotations

from typing import Any

from core import masking, payload_schema
from core.errors import InvalidEdit
from core.text_checks import json_kind, json_problem


def _kept_types(before: Any, after: Any, path: masking.Path, removed: set[str],
                out: list[tuple[str, str]]) -> None:
    if before is None:
        return  # null carries no type: any value may fill it in
    where = masking.pointer(path)
    if json_kind(before) != json_kind(after):
        out.append((where, f"must stay a {json_kind(before)} (got a {json_kind(after)})"))
        return
    if isinstance(before, dict):
        for key, value in before.items():
            child = (*path, key)
            if key not in after:
                if masking.pointer(child) not in removed:
                    out.append((masking.pointer(child), "was removed; remove a field only on purpose "
                                                         "(Remove fields in Slack and in the editor, --remove in the CLI)"))
            else:
                _kept_types(value, after[key], child, removed, out)
    elif isinstance(before, list):
        for i, (a, b) in enumerate(zip(before, after, strict=False)):
            _kept_types(a, b, (*path, str(i)), removed, out)


def problems(before: dict[str, Any], after: Any, schema: dict[str, Any] | None,
             removed: list[str] | None = None) -> list[tuple[str, str]]:
    """Every (JSON Pointer, problem) of the edit `before` → `after`; empty when it may be recorded."""
    if not isinstance(after, dict):
        return [("", "the edited payload must be a JSON object")]
    if (found := json_problem(after, as_pointer=True)) is not None:
        return [found]
    if schema:
        return payload_schema.problems(schema, after)
    names = set(removed or [])
    out: list[tuple[str, str]] = []
    for r in names:
        masking.parse(r)  # a removal is named by pointer, like a mask
    _kept_types(before, after, (), names, out)
    return out


def checked(current: dict[str, Any], route: dict[str, Any], edited: Any, removed: list[str] | None,
            keep_masked: bool) -> dict[str, Any]:
    """The edit as it will be recorded, or InvalidEdit. `keep_masked`: its author was shown masked
    values, so each keeps its current value whatever the edit holds."""
    if keep_masked:
        edited, lost = masking.restore(edited, current, masking.paths(route))
        if lost:
            raise InvalidEdit(lost)
    check(current, edited, route.get("payload_schema"), removed)
    return edited


def check(before: dict[str, Any], after: Any, schema: dict[str, Any] | None,
          removed: list[str] | None = None) -> None:
    try:
        found = problems(before, after, schema, removed)
    except ValueError as exc:
        raise InvalidEdit([("", str(exc))]) from None
    if found:
        raise InvalidEdit(found)

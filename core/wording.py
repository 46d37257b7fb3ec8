"""How numbers and names read in every message: one label per reason tag, plurals that agree, and
values shown as the agent sent them."""
from __future__ import annotations


def tag_label(tag: str) -> str:
    """A reason tag as people read it, the same in menus, messages, notices and reports."""
    return tag.replace("_", " ")


def plural(n: int, one: str, many: str | None = None) -> str:
    """`1 reason tag`, `2 reason tags`, `0 reason tags`."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def number(v: float | int) -> str:
    """A number as the agent would write it: 129, not 129.0; 0.1, not 0.1000000001."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v) if isinstance(v, float) else str(v)

"""How numbers and names read in every message: one label per reason tag, plurals that agree, and
values shown as the agent sent them."""
from __future__ import annotations


def tag_label(tag: str) -> str:
    """A reason tag as people read it, the same in menus, messages, notices and reports."""
    return tag.replace("_", " ")


def plural(n: int, one: str, many: str | None = None) -> str:
    """`1 reason tag`, `2 reason tags`, `0 reason tags`."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def percent(v: float, against: float | None = None) -> str:
    """A confidence or threshold as a percentage, to one decimal (78.5%), and to more only where
    fewer would make it read the same as `against` (96.99% beside a 97% threshold)."""
    def shown(x: float, digits: int) -> str:
        return f"{x * 100:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{x * 100:.0f}"

    for digits in range(1, 7):
        text = shown(v, digits)
        if against is None or against == v or text != shown(against, digits):
            return text + "%"
    return shown(v, 6) + "%"


def number(v: float | int) -> str:
    """A number as the agent would write it: 129, not 129.0; 0.1, not 0.1000000001."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v) if isinstance(v, float) else str(v)

"""Declarative conditions on a proposal, parsed without eval.

Grammar: `<field> <op> <value>`, where field is a dotted path (`amount`, `customer.tier`,
`items.0.sku`; a bare path reads the payload, the roots `payload.`, `confidence`, `risk`,
`action_type` and `context.` are also available), op is one of ==, !=, >, >=, <, <=, in,
not in, contains, exists, missing, and value is a YAML scalar or flow list (`500`, `gold`,
`[EU, UK]`). Several conditions in a list must all hold.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from core.text_checks import json_kind

OPS = ("==", "!=", ">=", "<=", ">", "<", "not in", "in", "contains", "exists", "missing")
UNARY = {"exists", "missing"}
ORDERING = {">", ">=", "<", "<="}
_ROOTS = {"payload", "confidence", "risk", "action_type", "context"}
_PATTERN = re.compile(
    r"^\s*(?P<field>[A-Za-z_][\w-]*(?:\.[\w-]+)*)\s+(?P<op>==|!=|>=|<=|>|<|not\s+in|in|contains|exists|missing)(?=\s|$)\s*(?P<value>.*?)\s*$"
)
_MISSING = object()


class ConditionSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any
    text: str

    @classmethod
    def parse(cls, text: str) -> Condition:
        if not isinstance(text, str):
            raise ConditionSyntaxError(f"a condition is a string like 'amount > 500', got {type(text).__name__}")
        m = _PATTERN.match(text)
        if not m:
            raise ConditionSyntaxError(
                f"cannot read condition {text!r}: expected '<field> <op> <value>' with op one of {', '.join(OPS)}"
            )
        op = " ".join(m["op"].split())
        raw = m["value"]
        if op in UNARY:
            if raw:
                raise ConditionSyntaxError(f"{op!r} takes no value in {text!r}")
            value = None
        else:
            if not raw:
                raise ConditionSyntaxError(f"{op!r} needs a value in {text!r}")
            try:
                value = yaml.safe_load(raw)
            except yaml.YAMLError as exc:
                raise ConditionSyntaxError(f"cannot read the value {raw!r} in {text!r}: {exc}") from None
            if op in ("in", "not in") and not isinstance(value, list):
                raise ConditionSyntaxError(f"{op!r} needs a list such as [a, b] in {text!r}")
            if op in ORDERING and (isinstance(value, bool) or not isinstance(value, (int, float, str))):
                raise ConditionSyntaxError(f"{op!r} needs a number or a string in {text!r}")
        return cls(field=m["field"], op=op, value=value, text=text.strip())

    def matches(self, facts: dict[str, Any]) -> bool:
        return self.evaluate(facts) is True

    def evaluate(self, facts: dict[str, Any]) -> bool | Unknown:
        """True or False, or Unknown when the field is missing or of a type the condition cannot
        compare: `amount > 500` says nothing about `"0x258"`, `[600]` or `true`, and routing
        must then fail closed instead of reading it as "no"."""
        actual = lookup(facts, self.field)
        op, want = self.op, self.value
        if op == "exists":
            return actual is not _MISSING and actual is not None
        if op == "missing":
            return actual is _MISSING or actual is None
        if actual is _MISSING:
            return Unknown(f"{self.field} is missing")
        if op == "contains":
            if isinstance(actual, str):
                return isinstance(want, str) and want.lower() in actual.lower()
            if isinstance(actual, list):
                return any(_equal(a, want) for a in actual)
            if isinstance(actual, dict):
                return want in actual
            return Unknown(f"{self.field} is {_kind(actual, article=True)}, expected text, a list or an object")
        if op in ORDERING:
            return _compare(self.field, actual, op, want)
        wants = want if op in ("in", "not in") else [want]
        if not any(_comparable(actual, w) for w in wants):
            expected = " or ".join(dict.fromkeys(_kind(w, article=True) for w in wants)) or "a value"
            return Unknown(f"{self.field} is {_kind(actual, article=True)}, expected {expected}")
        found = any(_equal(actual, w) for w in wants)
        return found if op in ("==", "in") else not found


@dataclass(frozen=True)
class Unknown:
    """A condition that could not be decided, and why (shown in the routing explanation)."""

    why: str

    def __bool__(self) -> bool:
        raise TypeError("an Unknown condition is neither true nor false: handle it")


def all_of(results: list[bool | Unknown]) -> bool | Unknown:
    """Kleene's AND: False if any is False, else Unknown if any is Unknown, else True."""
    if any(r is False for r in results):
        return False
    return next((r for r in results if isinstance(r, Unknown)), True)


_NUMBER_TEXT = re.compile(r"\s*-?\d+(\.\d+)?\s*")


def _kind(v: Any, article: bool = False) -> str:
    kind = "list" if isinstance(v, list) else json_kind(v)  # policy authors write lists: [EU, UK]
    if not article or kind == "null":
        return kind
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def _comparable(actual: Any, want: Any) -> bool:
    """Whether equality between these means anything (text and numbers compare by their text form)."""
    a, w = _kind(actual), _kind(want)
    return a == w or {a, w} == {"number", "string"} or w == "null"


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b if isinstance(a, bool) and isinstance(b, bool) else False
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, str) and isinstance(b, (int, float)):
        # YAML reads `code == 007` as a number; compare text forms as well.
        return a == str(b)
    return a == b


def _compare(field: str, actual: Any, op: str, want: Any) -> bool | Unknown:
    if isinstance(want, (int, float)):
        if isinstance(actual, str) and _NUMBER_TEXT.fullmatch(actual):
            actual = float(actual)  # "500.00" from an agent still compares as money; "0x258" and "NaN" do not
        if isinstance(actual, bool) or not isinstance(actual, (int, float)):
            return Unknown(f"{field} is {_kind(actual, article=True)}, expected a number")
    elif isinstance(want, str) and not isinstance(actual, str):
        return Unknown(f"{field} is {_kind(actual, article=True)}, expected a string")
    return {">": actual > want, ">=": actual >= want, "<": actual < want, "<=": actual <= want}[op]


def lookup(facts: dict[str, Any], path: str) -> Any:
    parts = path.split(".")
    if parts[0] not in _ROOTS:
        parts = ["payload", *parts]
    node: Any = facts
    for part in parts:
        if isinstance(node, dict):
            if part not in node:
                return _MISSING
            node = node[part]
        elif isinstance(node, list) and part.isdigit():
            idx = int(part)
            if idx >= len(node):
                return _MISSING
            node = node[idx]
        else:
            return _MISSING
    return node

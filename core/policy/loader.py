"""Read a policy file and report every problem as `file:line: field: what is wrong`."""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from core.errors import PolicyError
from core.policy import risk_classes
from core.policy.model import Policy


@dataclass(frozen=True)
class LoadedPolicy:
    policy: Policy
    version: str  # label@content-hash: recorded on every action it routes
    text: str
    source: str


def load_policy(path: str | Path) -> LoadedPolicy:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError([f"{p}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError([f"{p}: cannot read: {exc}"]) from None
    return load_policy_text(text, source=str(p))


def load_policy_text(text: str, source: str = "<policy>") -> LoadedPolicy:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError([f"{where}: not valid YAML: {problem}"]) from None
    lines: dict[tuple, int] = {}
    problems: list[str] = []
    data = {} if node is None else _to_python(node, (), lines, problems, source)
    if problems:
        raise PolicyError(problems)
    if not isinstance(data, dict):
        raise PolicyError([f"{source}:1: the policy must be a mapping (reason_tags, default, action_types)"])
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # A failed list item also fails its parent's length check: report the cause only.
        locs = [tuple(e["loc"]) for e in errors]
        errors = [e for e in errors
                  if not any(len(o) > len(e["loc"]) and o[: len(e["loc"])] == tuple(e["loc"]) for o in locs)]
        raise PolicyError([_describe(err, lines, source) for err in errors]) from None
    if broken := risk_classes.violations(policy):
        raise PolicyError([f"{source}:{_line(loc, lines)}: {_dotted(loc)}: {msg}" for loc, msg in broken])
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    version = f"{policy.version}@{digest}" if policy.version else digest
    return LoadedPolicy(policy=policy, version=version, text=text, source=source)


def _to_python(node: yaml.Node, path: tuple, lines: dict, problems: list[str], source: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for key_node, value_node in node.value:
            key = yaml.SafeLoader(  # a key is a scalar; build it with the safe constructor
                ""
            ).construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                problems.append(f"{source}:{key_node.start_mark.line + 1}: keys must be plain names")
                continue
            if key in out:
                problems.append(
                    f"{source}:{key_node.start_mark.line + 1}: {_dotted(path + (key,))}: duplicate key "
                    f"(first on line {lines[path + (key,)]})"
                )
                continue
            lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = _to_python(value_node, path + (key,), lines, problems, source)
            lines[path + (key,)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(v, path + (i,), lines, problems, source) for i, v in enumerate(node.value)]
    return yaml.SafeLoader("").construct_object(node, deep=True)


def _dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _line(loc: tuple, lines: dict[tuple, int]) -> int:
    """The deepest part of the path that exists in the file tells the line."""
    probe = loc
    while probe and probe not in lines:
        probe = probe[:-1]
    return lines.get(probe, 1)


def _describe(err: Mapping[str, Any], lines: dict[tuple, int], source: str) -> str:
    loc = tuple(p for p in err["loc"] if p not in ("[key]",) and not (isinstance(p, str) and p.startswith("function-")))
    line = _line(loc, lines)
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if err["type"] == "extra_forbidden":
        msg = f"unknown field {loc[-1]!r} (check its spelling against docs/policy.md)"
    elif err["type"] in ("enum", "literal_error"):
        msg = f"{msg} (got {err.get('input')!r})"
    elif err["type"] == "string_pattern_mismatch" and "[key]" in err["loc"]:
        msg = f"action type name {loc[-1]!r} may use letters, digits and _ . : - (up to 64 characters)"
    elif (err["type"] not in ("value_error", "assertion_error") and "input" in err
          and not isinstance(err["input"], (dict, list))):
        msg = f"{msg} (got {err['input']!r})"
    return f"{source}:{line}: {_dotted(loc)}: {msg}"

"""A policy's `payload_schema`: JSON Schema (Draft 2020-12 unless `$schema` says otherwise), checked
once when the policy loads and then against every proposal and every edit."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from core import masking
from core.audit_log import canonical

# jsonschema is imported where it is used: it costs a CLI command ~0.1 s to start, and only
# policies that declare a payload_schema need it.


def check(schema: dict[str, Any]) -> None:
    """A ValueError naming the problem when `schema` is not a valid JSON Schema."""
    import jsonschema
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for

    cls = validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        where = masking.pointer(tuple(str(p) for p in exc.path)) or "(top level)"
        raise ValueError(f"payload_schema at {where} is not valid JSON Schema: {exc.message}") from None


@lru_cache(maxsize=256)
def _validator(text: str) -> Any:
    import json

    import jsonschema
    from jsonschema.validators import validator_for

    schema = json.loads(text)
    return validator_for(schema, default=jsonschema.Draft202012Validator)(schema)


def problems(schema: dict[str, Any] | None, payload: Any) -> list[tuple[str, str]]:
    """Every (JSON Pointer, message) where `payload` fails `schema`, in document order. Messages
    name the rule, never the value: the value may be masked, and these go to Slack."""
    if not schema:
        return []
    found = []
    for err in _validator(canonical(schema)).iter_errors(payload):
        path = tuple(str(p) for p in err.absolute_path)
        if err.validator == "required" and isinstance(err.instance, dict):
            # Said on the missing field itself, so a form can show it beside that field.
            found += [(masking.pointer((*path, k)), "is required") for k in err.validator_value if k not in err.instance]
        else:
            found.append((masking.pointer(path), _describe(err)))
    return sorted(found)


def _describe(err: Any) -> str:
    v, kind = err.validator_value, err.validator
    plain = {
        "type": lambda: f"must be of type {' or '.join(v) if isinstance(v, list) else v}",
        "minimum": lambda: f"must be at least {v}",
        "exclusiveMinimum": lambda: f"must be more than {v}",
        "maximum": lambda: f"must be at most {v}",
        "exclusiveMaximum": lambda: f"must be less than {v}",
        "minLength": lambda: f"must be at least {v} character{'s' if v != 1 else ''} long",
        "maxLength": lambda: f"must be at most {v} characters long",
        "pattern": lambda: f"must match the pattern {v}",
        "enum": lambda: "must be one of " + ", ".join(canonical(x) for x in v),
        "const": lambda: f"must be {canonical(v)}",
        "additionalProperties": lambda: err.message.replace("Additional properties are", "Fields are"),
        "minItems": lambda: f"must have at least {v} item{'s' if v != 1 else ''}",
        "maxItems": lambda: f"must have at most {v} items",
        "format": lambda: f"must be a valid {v}",
    }
    return plain[kind]() if kind in plain else f"fails the schema's {kind} rule"

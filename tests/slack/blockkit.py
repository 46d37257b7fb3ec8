"""Validate what we send against the community Block Kit JSON Schema plus the rules it leaves out."""
from __future__ import annotations

import json
from functools import lru_cache

from jsonschema import Draft202012Validator

from tests.slack_requests import SCHEMAS


@lru_cache
def _validator() -> Draft202012Validator:
    schema = json.loads((SCHEMAS / "block_kit_community" / "slack-block-kit.schema.json").read_text())
    return Draft202012Validator(schema)


def _errors(blocks: list) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in _validator().iter_errors(blocks)]


def _unique_ids(blocks: list) -> None:
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), f"duplicate block_id: {block_ids}"


def assert_valid_message(blocks: list) -> None:
    assert 1 <= len(blocks) <= 50, f"{len(blocks)} blocks; a message holds 50"
    assert _errors(blocks) == []
    _unique_ids(blocks)


def assert_valid_modal(view: dict) -> None:
    assert view["type"] == "modal" and 1 <= len(view["title"]["text"]) <= 24
    for key in ("submit", "close"):
        if key in view:
            assert len(view[key]["text"]) <= 24
    if any(b["type"] == "input" for b in view["blocks"]):
        assert "submit" in view, "a modal with inputs needs a submit button"
    assert len(view.get("private_metadata", "")) <= 3000 and len(view["callback_id"]) <= 255
    assert len(view["blocks"]) <= 100
    assert _errors(view["blocks"]) == []
    _unique_ids(view["blocks"])

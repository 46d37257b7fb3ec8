"""Untrusted text into Slack: escape the three control characters, then clip within the limit."""
from __future__ import annotations

import json
import re
from typing import Any

_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")
MASK = "••••••"


def escape(text: str) -> str:
    """`&`, `<`, `>` only, `&` first: `<!channel>` then shows as text and pings nobody."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = _PARTIAL_ENTITY.sub("", text[: limit - 1])  # never leave half of "&amp;"
    return cut + "…"


def mrkdwn(text: str, limit: int) -> str:
    return clip(escape(text), limit)


def plain(text: str, limit: int) -> str:
    """plain_text is not parsed for mentions or links; it still must be non-empty and within the limit."""
    text = text.strip() or "—"
    return clip(text, limit)


def show_value(value: Any, limit: int) -> str:
    if isinstance(value, str):
        return mrkdwn(value, limit) if value else "_(empty)_"
    raw = json.dumps(value, ensure_ascii=False)
    return "`" + mrkdwn(raw.replace("`", "ˋ"), limit - 2) + "`"


def masked(payload: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """A copy with each dotted path's value replaced by a mask."""
    out = json.loads(json.dumps(payload))
    for path in paths:
        node = out
        *parents, last = path.split(".")
        for p in parents:
            node = node.get(p) if isinstance(node, dict) else None
        if isinstance(node, dict) and last in node:
            node[last] = MASK
    return out

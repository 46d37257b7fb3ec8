"""Untrusted text into Slack: escape the three control characters, then clip within the limit."""
from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from core.masking import MASK
from core.wording import number

__all__ = ["MASK", "clip", "escape", "mrkdwn", "neutral", "plain", "show_value", "split"]

_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")
# Slack has no escape for *bold*, _italic_, ~strike~ or `code`. A date token with an invalid format
# shows its fallback as plain text, so `<!date^0^{_}|*>` renders a lone, inert `*` (the approach of
# jsx-slack's <Escape>). Inside a word these characters format nothing (`order_id`), so only the
# ones at a word's edge are wrapped: snake_case keys stay short.
_FORMATTING = re.compile(r"(?<![0-9A-Za-z])[*_~`]|[*_~`](?![0-9A-Za-z])")
_QUOTE = re.compile(r"^(\s*)&gt;", re.MULTILINE)
_URL = re.compile(r"(?:https?://|www\.)[^\s<>`]+", re.IGNORECASE)
_TOKEN = re.compile(r"<[^<>]*>|&[a-z]+;")


def escape(text: str) -> str:
    """`&`, `<`, `>` only, `&` first: `<!channel>` then shows as text and pings nobody."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return _safe_cut(text, limit - 1) + "…"


def _safe_cut(text: str, at: int) -> str:
    """`text[:at]`, moved back so it never ends inside an entity (`&amp;`) or a token (`<!date…>`)."""
    cut = text[:at]
    for m in _TOKEN.finditer(text, max(0, at - 40), min(len(text), at + 40)):
        if m.start() < at < m.end():
            return text[: m.start()]
    return _PARTIAL_ENTITY.sub("", cut)


def split(text: str, size: int) -> list[str]:
    """Pieces of at most `size` characters, never cutting an entity or a token in two."""
    pieces = []
    while len(text) > size:
        head = _safe_cut(text, size) or text[:size]
        pieces.append(head)
        text = text[len(head):]
    return [*pieces, text] if text or not pieces else pieces


def _inert(text: str) -> str:
    out = _FORMATTING.sub(lambda m: f"<!date^0^{{_}}|{m.group()}>", escape(text))
    return _QUOTE.sub(lambda m: m.group(1) + "\u200b&gt;", out)  # a quote starts a line; this one no longer does


def _link(url: str, hosts: tuple[str, ...]) -> str:
    host = (urlsplit(url).hostname or "") if url.lower().startswith(("http://", "https://")) else ""
    if host and any(host == h or host.endswith("." + h) for h in hosts):
        safe = url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")
        return f"<{escape(safe)}|{escape(safe)}>"
    # A code span: shown as text, and Slack does not turn it into a link.
    return "`" + escape(url.replace("`", "ˋ")) + "`"


def neutral(text: str, limit: int, link_hosts: tuple[str, ...] = ()) -> str:
    """Agent text for mrkdwn: escaped, unable to bold, strike, quote or code-fence itself, and with
    its links as text, except those to a host in `link_hosts` (the policy's allow-list).
    `limit` counts what the reviewer sees: the text is cut before it is made inert, because one
    inert `*` takes 15 characters of markup. Callers clip the result to Slack's field limit."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    pieces, last = [], 0
    for m in _URL.finditer(text):
        pieces += [_inert(text[last:m.start()]), _link(m.group(), link_hosts)]
        last = m.end()
    pieces.append(_inert(text[last:]))
    return "".join(pieces)


def mrkdwn(text: str, limit: int) -> str:
    """Escaped only: for text that is ours or Slack's (ids, tags), or that sits in a code span."""
    return clip(escape(text), limit)


def plain(text: str, limit: int) -> str:
    """plain_text is not parsed for mentions or links; it still must be non-empty and within the limit."""
    text = text.strip() or "—"
    return clip(text, limit)


def show_value(value: Any, limit: int, link_hosts: tuple[str, ...] = ()) -> str:
    if isinstance(value, str):
        return neutral(value, limit, link_hosts) if value else "_(empty)_"
    # 129, not 129.0: JSON has one number type, and the agent's 129 may have come back as a float
    raw = number(value) if isinstance(value, int | float) else json.dumps(value, ensure_ascii=False)
    return "`" + mrkdwn(raw.replace("`", "ˋ"), limit - 2) + "`"

"""The gate's own tools, offered beside the upstream's with --offer-tools: `request_approval`, for an
agent that asks explicitly, and `get_examples`, its own proposals that humans corrected."""
from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
import mcp_types as types

from hitl_client.client import Action, HitlClient, examples_prompt
from hitl_client.gating import Verdict
from hitl_client.mcp_gate.results import tool_error

Decide = Callable[[Action, float | None], Awaitable[Verdict]]

TOOLS = [
    types.Tool(
        name="request_approval",
        description="Ask a human reviewer (in Slack) before doing something risky. Waits for the decision. On a "
                    "go-ahead, do exactly `final_payload`, once: it may differ from what you proposed. Otherwise the "
                    "answer says why: do not retry unchanged.",
        input_schema={"type": "object", "required": ["action_type", "title", "payload", "confidence"], "properties": {
            "action_type": {"type": "string", "description": "the gate's policy entry, e.g. refund"},
            "title": {"type": "string", "description": "one line a reviewer reads first"},
            "payload": {"type": "object", "description": "the action's arguments, as you would run them"},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1, "description": "how sure you are it is right"},
            "summary": {"type": "string", "description": "your reasoning, for the reviewer"},
            "timeout_seconds": {"type": "number", "exclusiveMinimum": 0,
                                "description": "give up (and withdraw the request) after this long"}}}),
    types.Tool(
        name="get_examples",
        description="Your own past proposals of an action type that a human corrected, rejected or flagged: read "
                    "them before proposing another.",
        input_schema={"type": "object", "required": ["action_type"], "properties": {
            "action_type": {"type": "string"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 5}}}),
]
NAMES = {t.name for t in TOOLS}


async def call(name: str, arguments: dict[str, Any], client: HitlClient, decide: Decide) -> types.CallToolResult:
    if name == "get_examples":
        try:
            action_type, limit = str(arguments["action_type"]), int(arguments.get("limit", 5))
        except (KeyError, TypeError, ValueError):
            return tool_error("get_examples needs action_type (text); limit (1 to 50) is optional.")
        examples = await anyio.to_thread.run_sync(lambda: client.examples(action_type, limit))
        text = examples_prompt(examples) or f"No corrected examples of {action_type} yet."
        return _result(text, {"examples": examples})
    try:
        action_type, title, payload = str(arguments["action_type"]), str(arguments["title"]), arguments["payload"]
        confidence = float(arguments["confidence"])
        timeout = float(arguments["timeout_seconds"]) if arguments.get("timeout_seconds") is not None else None
        if not isinstance(payload, dict) or not 0 <= confidence <= 1:
            raise ValueError
    except (KeyError, TypeError, ValueError):
        return tool_error("request_approval needs action_type and title (text), payload (an object) and confidence "
                        "(0 to 1); timeout_seconds is optional. Nothing was proposed.")
    action = await anyio.to_thread.run_sync(lambda: client.request(
        action_type, title, payload, confidence, summary=str(arguments.get("summary") or "")))
    verdict = await decide(action, timeout)
    d = verdict.action.decision or {}
    answer = {"action_id": action.id, "status": d.get("status", verdict.action.status), "go_ahead": verdict.run,
              "final_payload": verdict.payload, "reason_tags": d.get("reason_tags") or [], "comment": d.get("comment")}
    if verdict.run:
        text = "Approved: do exactly this, once: " + json.dumps(verdict.payload, ensure_ascii=False, sort_keys=True)
    else:
        text = verdict.message or "Not approved."
    return _result(text, answer)


def _result(text: str, structured: dict[str, Any]) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content=structured)

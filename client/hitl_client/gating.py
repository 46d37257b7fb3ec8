"""What every adapter does after a proposal: settle it into one verdict, run or not run.

The decorator, the MCP gate and the framework adapters all end the same way, so they share this:
an undecided proposal is cancelled (the agent stopped waiting), a go-ahead is claimed at the gate
so exactly the approved payload runs once, and anything else becomes words for the model."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hitl_client.client import Action, HitlClient, HitlError

Confidence = float | Callable[[str, dict[str, Any]], float]  # fixed, or from the tool's name and arguments


@dataclass(frozen=True)
class Verdict:
    action: Action
    payload: dict[str, Any] | None  # exactly what to run, from the gate's claim; None: do not run
    message: str | None  # for the model when it does not run

    @property
    def run(self) -> bool:
        return self.payload is not None


def propose_call(client: HitlClient, name: str, args: dict[str, Any], *, action_type: str,
                 confidence: Confidence = 0.5, summary: str = "", timeout: float | None = None) -> Verdict:
    """Propose one tool call and wait for its verdict (a go-ahead is claimed: it is this call's to run)."""
    sure = confidence(name, args) if callable(confidence) else confidence
    action = client.request(action_type, call_title(name, args), args, float(sure), summary=summary,
                            context={"tool": name})
    return settle(client, action if action.decided else client.wait(action.id, timeout=timeout))


def settle(client: HitlClient, action: Action) -> Verdict:
    """Turn the last read of `action` into a verdict; claims the one right to run a go-ahead."""
    if not action.decided:
        action = withdraw(client, action.id)
    if not action.go_ahead:
        return Verdict(action, None, rejection_message(action))
    try:
        claim = client.execute(action)  # the one right to run exactly what was approved
    except HitlError as exc:
        if exc.status != 409:
            raise
        return Verdict(action, None, not_run_message(action, exc))
    return Verdict(action, claim["final_payload"], None)


def withdraw(client: HitlClient, action_id: str) -> Action:
    """Cancel a proposal the agent no longer waits for; returns the action as it now stands."""
    try:
        client.cancel(action_id, reason="the agent stopped waiting")
    except HitlError as exc:
        if exc.status != 409:  # 409: a reviewer decided just now; read what they said
            raise
    return client.get(action_id)


def rejection_message(action: Action) -> str:
    """Words for the LLM, so it learns why instead of retrying the same call."""
    d = action.decision or {}
    status = d.get("status", action.status)
    tags = ", ".join(d.get("reason_tags") or []) or "none given"
    lines = [f"The action '{action.raw.get('title')}' was not carried out: a human reviewer's answer was {status.upper()}."]
    if status == "rejected":
        lines.append(f"Reason tags: {tags}.")
    if d.get("comment"):
        lines.append(f"Reviewer comment: {d['comment']}")
    if status == "expired":
        lines.append("Nobody decided in time.")
    lines.append("Do not retry the same action unchanged. Address the reasons, ask the user, or choose another approach.")
    return "\n".join(lines)


def not_run_message(action: Action, refused: HitlError) -> str:
    """Words for the LLM when the approval exists but this call may not run it."""
    return (f"The action '{action.raw.get('title')}' was approved but not carried out here: {refused.message}. "
            "Do not retry it unchanged; propose it again if it is still needed.")


def call_title(name: str, arguments: dict[str, Any]) -> str:
    """A reviewer's first line for a tool call the agent gave no title: the tool and its arguments."""
    shown = json.dumps(arguments, ensure_ascii=False, sort_keys=True, default=str)
    return (f"{name} {shown}" if arguments else name)[:200]


def jsonable(value: Any) -> Any:
    """An outcome the gate can store: JSON as it is, anything else by its repr."""
    if value is None or isinstance(value, (str, int, float, bool, list, dict)):
        return value
    return repr(value)[:1000]

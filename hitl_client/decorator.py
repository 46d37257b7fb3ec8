"""`require_approval`: gate a tool function behind the human review."""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from hitl_client.client import Action, HitlClient, HitlError


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


def require_approval(client: HitlClient, action_type: str, title: str | Callable[..., str] | None = None,
                     confidence: float | Callable[..., float] = 0.5, summary: str | Callable[..., str] = "",
                     timeout: float | None = None, report_outcome: bool = True, **request_kwargs: Any):
    """Run the wrapped function only after approval, with the (possibly edited) arguments.

    The function's arguments become the payload, so a reviewer's Modify edits what actually runs.
    Before it runs, the wrapper claims execution (POST /v1/actions/{id}/execute) with the approved
    payload's hash, and runs the payload the claim returns: once, and only if the approval has not
    expired. On rejection, expiry or cancellation, or a refused claim, it returns a message for the
    model instead of calling the function.
    `title`, `confidence` and `summary` may be callables taking the same arguments; a `str` title
    may use `{arg}` placeholders.
    """

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def gated(*args: Any, **kwargs: Any) -> Any:
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            payload = dict(bound.arguments)

            def resolve(v: Any) -> Any:
                return v(**payload) if callable(v) else v

            t = resolve(title) if title is not None else fn.__name__
            if isinstance(t, str) and not callable(title):
                t = t.format(**payload)
            action = client.request(action_type, t, payload, float(resolve(confidence)), summary=resolve(summary),
                                    **request_kwargs)
            action = action if action.decided else client.wait(action.id, timeout=timeout)
            if not action.decided:
                try:
                    client.cancel(action.id, reason="the agent stopped waiting")
                except HitlError as exc:
                    if exc.status != 409:  # 409: a reviewer decided just now; read what they said
                        raise
                action = client.get(action.id)
            if not action.go_ahead:
                return rejection_message(action)
            try:
                claim = client.execute(action)  # the one right to run exactly what was approved
            except HitlError as exc:
                if exc.status != 409:
                    raise
                return not_run_message(action, exc)
            final = {k: v for k, v in claim["final_payload"].items() if k in sig.parameters}
            try:
                result = fn(**final)
            except Exception as exc:
                if report_outcome:
                    client.report_outcome(action.id, "failed", {"error": repr(exc)[:1000]})
                raise
            if report_outcome:
                client.report_outcome(action.id, "executed", _jsonable(result))
            return result

        return gated

    return wrap


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool, list, dict)):
        return value
    return repr(value)[:1000]

"""`require_approval`: gate a tool function behind the human review."""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from hitl_client.client import HitlClient
from hitl_client.gating import jsonable, settle


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
            verdict = settle(client, action)
            if verdict.payload is None:
                return verdict.message
            final = {k: v for k, v in verdict.payload.items() if k in sig.parameters}
            try:
                result = fn(**final)
            except Exception as exc:
                if report_outcome:
                    client.report_outcome(action.id, "failed", {"error": repr(exc)[:1000]})
                raise
            if report_outcome:
                client.report_outcome(action.id, "executed", jsonable(result))
            return result

        return gated

    return wrap


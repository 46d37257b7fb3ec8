"""HTTP only: this module must not import the server packages (core, bot, workers)."""
from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

GO_AHEAD = {"auto_approved", "approved", "modified"}


def payload_sha256(payload: Any) -> str:
    """What POST /v1/actions/{id}/execute names: SHA-256 hex of the canonical JSON (keys sorted, no
    whitespace, UTF-8), the same as the decision's `payload_sha256`."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class HitlError(Exception):
    """The gate answered with an error; `code` and `fields` come from its JSON body."""

    def __init__(self, status: int, code: str, message: str, fields: list[dict] | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.fields = status, code, message, fields or []


@dataclass
class Action:
    """The gate's view of one action (see the intake API's ActionView)."""

    raw: dict[str, Any] = field(repr=False)

    @property
    def id(self) -> str:
        return self.raw["id"]

    @property
    def status(self) -> str:
        return self.raw["status"]

    @property
    def decision(self) -> dict[str, Any] | None:
        return self.raw.get("decision")

    @property
    def decided(self) -> bool:
        return self.decision is not None

    @property
    def go_ahead(self) -> bool:
        return bool(self.decision and self.decision["go_ahead"])

    @property
    def final_payload(self) -> dict[str, Any] | None:
        return self.decision["final_payload"] if self.decision else None

    @property
    def payload_sha256(self) -> str | None:
        return self.decision.get("payload_sha256") if self.decision else None

    @property
    def state(self) -> Any:
        return self.raw.get("state")


class Rejected(Exception):
    """Raised by `wait(..., raise_on_reject=True)` when the answer is not a go-ahead."""

    def __init__(self, action: Action):
        d = action.decision or {}
        tags = ", ".join(d.get("reason_tags") or [])
        super().__init__(f"{action.id} {d.get('status')}: {tags} {d.get('comment') or ''}".strip())
        self.action = action


class HitlClient:
    def __init__(self, base_url: str, api_key: str, timeout: float = 10.0, transport: httpx.BaseTransport | None = None):
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport,
                                  headers={"Authorization": f"Bearer {api_key}", "User-Agent": "hitl-client/0.1"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HitlClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, method: str, path: str, retries: int = 3, **kwargs) -> dict[str, Any]:
        # Network failures and 503s are retried; POST /v1/actions is safe to retry because it carries an Idempotency-Key.
        for attempt in range(retries + 1):
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError:
                if attempt == retries:
                    raise
                time.sleep(min(0.5 * 2**attempt, 5))
                continue
            if response.status_code == 503 and attempt < retries:
                time.sleep(float(response.headers.get("Retry-After", 1)))
                continue
            break
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            raise HitlError(response.status_code, body.get("error", "http_error"), body.get("message", response.text[:200]),
                            body.get("fields"))
        return response.json()

    def request(self, action_type: str, title: str, payload: dict[str, Any], confidence: float, *, summary: str = "",
                risk: str | None = None, context: dict[str, Any] | None = None, run_id: str | None = None,
                call_id: str | None = None, state: Any = None, callback_url: str | None = None,
                deadline: str | None = None, idempotency_key: str | None = None,
                agent_version: str | None = None) -> Action:
        """Propose an action. Pass the same idempotency_key when retrying the same proposal."""
        body = {"action_type": action_type, "title": title, "summary": summary, "payload": payload,
                "confidence": confidence, "context": context or {}, "state": state}
        for key, value in (("risk", risk), ("run_id", run_id), ("call_id", call_id), ("callback_url", callback_url),
                           ("deadline", deadline), ("agent_version", agent_version)):
            if value is not None:
                body[key] = value
        headers = {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}
        return Action(self._call("POST", "/v1/actions", json=body, headers=headers))

    def get(self, action_id: str) -> Action:
        return Action(self._call("GET", f"/v1/actions/{action_id}"))

    def wait(self, action_id: str, timeout: float | None = None, raise_on_reject: bool = False) -> Action:
        """Block until the decision exists (or `timeout` seconds pass; then the pending action is returned)."""
        give_up = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = 60.0 if give_up is None else max(0.0, min(60.0, give_up - time.monotonic()))
            action = Action(self._call("GET", f"/v1/actions/{action_id}/decision", params={"wait": remaining},
                                       timeout=remaining + 10))
            if action.decided or (give_up is not None and time.monotonic() >= give_up):
                if raise_on_reject and action.decided and not action.go_ahead:
                    raise Rejected(action)
                return action

    def execute(self, action: Action) -> dict[str, Any]:
        """Claim the one right to run `action`'s approved payload; returns the claim, whose
        `final_payload` is exactly what to run. Raises HitlError with status 409 when the claim is
        refused: `code` says why (already_claimed, payload_mismatch, approval_expired, not_approved)."""
        if action.final_payload is None:
            raise HitlError(409, "not_approved", f"{action.id} has no approved payload to run")
        digest = payload_sha256(action.final_payload)
        if action.payload_sha256 is not None and digest != action.payload_sha256:
            # The payload this process holds is not the one the gate hashed: never run it.
            raise HitlError(409, "payload_mismatch", "the final payload read does not match the decision's payload_sha256")
        claim = self._call("POST", f"/v1/actions/{action.id}/execute", retries=0, json={"payload_sha256": digest})
        if payload_sha256(claim["final_payload"]) != digest:
            raise HitlError(409, "payload_mismatch", "the gate returned a payload other than the one claimed")
        return claim

    def report_outcome(self, action_id: str, status: str, result: Any = None) -> Action:
        return Action(self._call("POST", f"/v1/actions/{action_id}/outcome", json={"status": status, "result": result}))

    def examples(self, action_type: str, limit: int = 5, similar_to: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """This agent's proposals of `action_type` that a human corrected, rejected or flagged after they
        ran: balanced across failure patterns, or the most similar to `similar_to` (a payload) first."""
        if similar_to is not None:
            body = {"action_type": action_type, "limit": limit, "similar_to": similar_to}
            return self._call("POST", "/v1/examples/similar", json=body)["examples"]
        return self._call("GET", "/v1/examples", params={"action_type": action_type, "limit": limit})["examples"]

    def tool_map(self) -> dict[str, str]:
        """The policy's tool name -> action type mapping (its `tools:` lists), for the types this key may propose."""
        return self._call("GET", "/v1/tools")["tools"]

    def cancel(self, action_id: str, reason: str | None = None) -> Action:
        return Action(self._call("POST", f"/v1/actions/{action_id}/cancel", json={"reason": reason}))


def examples_prompt(examples: list[dict[str, Any]]) -> str:
    """Human corrections as a block to put in the agent's prompt (empty string when there are none)."""
    if not examples:
        return ""
    lines = ["Past proposals of yours that a human reviewer corrected. Learn from them:"]
    for i, ex in enumerate(examples, 1):
        lines.append(f"\nExample {i}: {ex['title']} (your confidence {ex['confidence']:.2f})")
        if ex.get("summary"):
            lines.append("  Your reasoning: " + " ".join(ex["summary"].split()))
        if ex.get("context"):
            lines.append(f"  The context: {json.dumps(ex['context'], ensure_ascii=False, sort_keys=True)}")
        lines.append(f"  You proposed: {json.dumps(ex['proposed_payload'], ensure_ascii=False, sort_keys=True)}")
        if ex["outcome"] == "modified":
            lines.append(f"  The reviewer approved instead: "
                         f"{json.dumps(ex['corrected_payload'], ensure_ascii=False, sort_keys=True)}")
            if ex.get("text_diff"):
                lines.append("  Changes: " + "; ".join(ex["text_diff"].splitlines()))
        elif ex["outcome"] == "flagged":
            lines.append("  It ran without review, and a spot check said it should not have.")
        else:
            lines.append("  The reviewer rejected it.")
        if ex.get("reason_tags"):
            lines.append("  Reasons: " + ", ".join(ex["reason_tags"]))
        if ex.get("comment"):
            lines.append("  Reviewer's comment: " + " ".join(ex["comment"].split()))
    return "\n".join(lines)

"""The agent intake: /v1/actions."""
from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from bot.web.auth import current_agent
from bot.web.error_responses import error_responses
from core import execution, intake, lifecycle
from core.action_view import ActionView
from core.proposal import Proposal
from core.queries import get_action
from core.services import AgentIdentity
from core.vocabulary import Outcome

router = APIRouter(prefix="/v1/actions", tags=["actions"])
Agent = Annotated[AgentIdentity, Depends(current_agent)]
ActionId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                                description="The id returned by POST /v1/actions.")]


class OutcomeReport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Outcome
    result: Any = Field(default=None, description="Whatever the agent wants recorded, e.g. the refund id or the error.")


class ExecuteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payload_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="The decision's payload_sha256: SHA-256 hex "
                                "of the canonical JSON of the payload the agent is about to run.")


class ExecutionClaimView(BaseModel):
    id: str
    final_payload: dict[str, Any] = Field(description="Exactly what was approved: run this, and only this.")
    payload_sha256: str
    revision: int
    claimed_at: datetime


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=1000)


def _from_new_action(operation_id: str) -> dict:
    return {"operationId": operation_id, "parameters": {"action_id": "$response.body#/id"}}


# OpenAPI links: what a client (and schemathesis's stateful run) may call next with the new id.
NEXT = {"GetAction": _from_new_action("read_action"), "WaitForDecision": _from_new_action("wait_for_decision"),
        "CancelAction": _from_new_action("cancel_action"), "ExecuteAction": _from_new_action("execute_action"),
        "ReportOutcome": _from_new_action("report_outcome")}


@router.post("", status_code=201, response_model=ActionView, operation_id="propose_action",
             responses={200: {"model": ActionView, "description": "A replay of an earlier Idempotency-Key",
                              "links": NEXT},
                        201: {"description": "The action, routed", "links": NEXT},
                        **error_responses(400, 401, 403, 409, 413, 422, 503)})
async def propose(request: Request, proposal: Proposal, agent: Agent,
                  idempotency_key: Annotated[str | None, Header(min_length=1, max_length=255)] = None) -> Response:
    """Submit a proposal. The answer says whether it needs a human (`status: pending`) or is decided already."""
    # On the event loop, with the one write awaited: no thread hop and no queue behind the GIL for
    # the request agents make most (bench/intake.py).
    view, created = await intake.submit_async(request.app.state.runtime.services, agent, proposal, idempotency_key)
    headers = {"Location": f"/v1/actions/{view.id}"} | ({} if created else {"Idempotent-Replayed": "true"})
    # The view was built by core from stored values: serialised as it is, not validated a second time.
    return Response(view.model_dump_json(), status_code=201 if created else 200, headers=headers,
                    media_type="application/json")


@router.get("/{action_id}", response_model=ActionView, operation_id="read_action",
            responses=error_responses(401, 404, 422, 503))
def read(request: Request, action_id: ActionId, agent: Agent) -> ActionView:
    return get_action(request.app.state.runtime.services, action_id, agent)


@router.get("/{action_id}/decision", response_model=ActionView, operation_id="wait_for_decision",
            responses=error_responses(401, 404, 422, 503))
async def wait_for_decision(request: Request, action_id: ActionId, agent: Agent,
                            wait: Annotated[float, Query(ge=0, le=60, description="Seconds to wait for the decision.")] = 0
                            ) -> ActionView:
    """Long-poll: answers as soon as the decision exists, or after `wait` seconds with `decision: null`."""
    runtime = request.app.state.runtime
    waiter = request.app.state.waiter
    loop = asyncio.get_running_loop()
    until = loop.time() + min(wait, runtime.settings.long_poll_max_seconds)
    with waiter.watch(action_id) as changed:
        while True:
            changed.clear()  # before the read: a change after it sets the event again
            view = await run_in_threadpool(get_action, runtime.services, action_id, agent)
            remaining = until - loop.time()
            if view.decision is not None or remaining <= 0:
                return view
            try:
                await asyncio.wait_for(changed.wait(), timeout=min(remaining, waiter.recheck))
            except TimeoutError:
                pass


@router.post("/{action_id}/execute", response_model=ExecutionClaimView, operation_id="execute_action",
             responses=error_responses(400, 401, 404, 409, 413, 422, 503))
def execute(request: Request, action_id: ActionId, claim: ExecuteRequest, agent: Agent) -> ExecutionClaimView:
    """Claim the one right to run the approved payload. The first claim naming the approved payload's
    hash gets it (200); a second claim, another hash, an action without a go-ahead or an approval past
    the policy's approval_ttl get 409, whose `error` says which: already_claimed, payload_mismatch,
    not_approved, not_decided or approval_expired."""
    got = execution.claim(request.app.state.runtime.services, agent, action_id, claim.payload_sha256)
    return ExecutionClaimView(id=got.action_id, final_payload=got.final_payload, payload_sha256=got.payload_sha256,
                              revision=got.revision, claimed_at=got.claimed_at)


@router.post("/{action_id}/outcome", response_model=ActionView, operation_id="report_outcome",
             responses=error_responses(400, 401, 404, 409, 413, 422, 503))
def report_outcome(request: Request, action_id: ActionId, report: OutcomeReport, agent: Agent) -> ActionView:
    """Tell the gate what happened after a go-ahead: executed or failed."""
    return lifecycle.report_outcome(request.app.state.runtime.services, agent, action_id, report.status.value, report.result)


@router.post("/{action_id}/cancel", response_model=ActionView, operation_id="cancel_action",
             responses=error_responses(400, 401, 404, 409, 413, 422, 503))
def cancel(request: Request, action_id: ActionId, agent: Agent,
           body: Annotated[CancelRequest | None, Body()] = None) -> ActionView:
    """Withdraw a pending proposal. A decided action cannot be cancelled (409 says who decided)."""
    return lifecycle.cancel(request.app.state.runtime.services, agent, action_id, body.reason if body else None)

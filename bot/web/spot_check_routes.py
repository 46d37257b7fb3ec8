"""Spot checks over HTTP, for operators: what is waiting, and a verdict, as the key's Slack user."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from bot.web.auth import current_operator
from bot.web.error_responses import error_responses
from core import operators, spot_checks
from core.access import NoGroups
from core.proposal import ACTION_TYPE_PATTERN

router = APIRouter(prefix="/v1/spot-checks", tags=["spot checks"])
Operator = Annotated[operators.Operator, Depends(current_operator)]


class VerdictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    verdict: Literal["looks_right", "flagged"]
    reason_tags: list[Annotated[str, Field(max_length=75)]] = Field(default=[], max_length=20,
                                                                    description="At least one with `flagged`.")


class VerdictView(BaseModel):
    action_id: str
    verdict: str
    reason_tags: list[str]
    auditor: str
    decided_at: datetime


@router.get("", operation_id="listSpotChecks", response_model=list[spot_checks.Waiting],
            responses=error_responses(401, 422))
async def waiting(request: Request, _operator: Operator,
                  action_type: Annotated[str | None, Query(pattern=ACTION_TYPE_PATTERN)] = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[spot_checks.Waiting]:
    """Drawn auto-approvals without a verdict, oldest first."""
    return await run_in_threadpool(spot_checks.pending, request.app.state.runtime.services, action_type, limit)


@router.post("/{action_id}/verdict", operation_id="recordSpotCheckVerdict", response_model=VerdictView,
             responses=error_responses(401, 403, 404, 409, 422))
async def verdict(request: Request, operator: Operator, body: VerdictRequest,
                  action_id: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]) -> VerdictView:
    """The first verdict stands (409 names who gave it). The key's user must be a reviewer of the type."""
    runtime = request.app.state.runtime
    # Never None here: None means "no check", which only the CLI (database access) gets.
    groups = runtime.groups.reading_only() if runtime.groups is not None else NoGroups()
    item = await run_in_threadpool(spot_checks.record_verdict, runtime.services, action_id, operator.reviewer,
                                   body.verdict, body.reason_tags, groups)
    return VerdictView(action_id=item.action_id, verdict=item.verdict, reason_tags=list(item.reason_tags or []),
                       auditor=item.auditor, decided_at=item.decided_at)

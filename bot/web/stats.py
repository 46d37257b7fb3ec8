"""GET /v1/stats: the /hitl-stats numbers as JSON, for the calling agent's own actions."""
from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder

from bot.web.auth import current_agent
from bot.web.error_responses import error_responses
from core import metrics, stats_text
from core.proposal import ACTION_TYPE_PATTERN
from core.services import AgentIdentity

router = APIRouter(prefix="/v1", tags=["learning"])


@router.get("/stats", responses=error_responses(401, 422, 503))
def stats(request: Request, agent: Annotated[AgentIdentity, Depends(current_agent)],
          action_type: Annotated[str | None, Query(pattern=ACTION_TYPE_PATTERN, max_length=64)] = None,
          days: Annotated[int, Query(ge=1, le=365)] = 7,
          by: Annotated[Literal["week", "day"], Query()] = "week",
          by_version: Annotated[bool, Query(description="Add a line per agent version (`versions`).")] = False,
          ) -> dict[str, Any]:
    """The same figures as `/hitl-stats` and `hitl stats`, for this agent's actions (optionally one
    action type): headline with the previous window, per-period trend, calibration, reviewer load,
    agreement. Rates are fractions (0.25 = 25 %), times are seconds."""
    label = f"{agent.name}" + (f" / {action_type}" if action_type else "")
    scope = metrics.Scope(label, agent_ids=(agent.id,), action_type=action_type)
    st = metrics.stats(request.app.state.runtime.services, days=days, by=by, scope=scope, versions=by_version)
    body = dataclasses.asdict(st)
    body["trend"] = [{"start": start, **dataclasses.asdict(h)} for start, h in st.trend]
    if st.agreement is not None:
        body["agreement"]["rate"] = st.agreement.rate
    body["text"] = stats_text.lines(st)
    return jsonable_encoder(body)

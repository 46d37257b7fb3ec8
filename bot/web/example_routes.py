"""GET /v1/examples: the calling agent's human-corrected proposals, for its prompt."""
from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from bot.web.auth import current_agent
from bot.web.error_responses import error_responses
from core import corrected_examples
from core.errors import InvalidRequest
from core.proposal import ACTION_TYPE_PATTERN
from core.services import AgentIdentity

router = APIRouter(prefix="/v1", tags=["learning"])


class ExamplesView(BaseModel):
    action_type: str
    examples: list[corrected_examples.Example]


@router.get("/examples", response_model=ExamplesView, responses=error_responses(401, 422, 503))
def recent_examples(request: Request, agent: Annotated[AgentIdentity, Depends(current_agent)],
                    action_type: Annotated[str, Query(pattern=ACTION_TYPE_PATTERN, max_length=64)],
                    limit: Annotated[int, Query(ge=1, le=corrected_examples.MAX_LIMIT)] = 5,
                    similar_to: Annotated[str | None, Query(
                        max_length=8000, description="A payload as JSON (an object): the most similar examples "
                        "come first.")] = None) -> ExamplesView:
    """Proposals of this agent that a reviewer modified (with the corrected payload and the diff) or
    rejected, or that ran and a spot check flagged, each with the reasoning and context it came
    with. Balanced across failure patterns (the most common first, newest first within each), or
    ordered by similarity to `similar_to`."""
    target = None
    if similar_to is not None:
        try:
            target = json.loads(similar_to)
        except ValueError:
            target = None
        if not isinstance(target, dict):
            raise InvalidRequest("similar_to must be a JSON object, like the payload you are about to propose",
                                 field="similar_to")
    return ExamplesView(action_type=action_type, examples=corrected_examples.recent(
        request.app.state.runtime.services, agent, action_type, limit, similar_to=target))

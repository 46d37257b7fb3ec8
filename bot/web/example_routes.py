"""GET /v1/examples: the calling agent's human-corrected proposals, for its prompt."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from bot.web.auth import current_agent
from bot.web.error_responses import error_responses
from core import corrected_examples
from core.proposal import ACTION_TYPE_PATTERN
from core.services import AgentIdentity

router = APIRouter(prefix="/v1", tags=["learning"])


class ExamplesView(BaseModel):
    action_type: str
    examples: list[corrected_examples.Example]


@router.get("/examples", response_model=ExamplesView, responses=error_responses(401, 422, 503))
def recent_examples(request: Request, agent: Annotated[AgentIdentity, Depends(current_agent)],
                    action_type: Annotated[str, Query(pattern=ACTION_TYPE_PATTERN, max_length=64)],
                    limit: Annotated[int, Query(ge=1, le=corrected_examples.MAX_LIMIT)] = 5) -> ExamplesView:
    """Proposals of this agent that a reviewer modified (with the corrected payload and the diff) or
    rejected, or that ran and a spot check flagged, each with the reasoning and context it came
    with. Balanced across failure patterns: the most common first, newest first within each."""
    return ExamplesView(action_type=action_type,
                        examples=corrected_examples.recent(request.app.state.runtime.services, agent, action_type, limit))


class SimilarRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action_type: str = Field(pattern=ACTION_TYPE_PATTERN)
    limit: int = Field(default=5, ge=1, le=corrected_examples.MAX_LIMIT)
    similar_to: dict[str, Any] = Field(description="The payload the agent is about to propose.")


@router.post("/examples/similar", response_model=ExamplesView, responses=error_responses(401, 422, 503))
def similar_examples(request: Request, agent: Annotated[AgentIdentity, Depends(current_agent)],
                     body: SimilarRequest) -> ExamplesView:
    """The same examples, the most similar to `similar_to` first (the share of top-level fields with
    equal values), newest first among equals."""
    return ExamplesView(action_type=body.action_type, examples=corrected_examples.recent(
        request.app.state.runtime.services, agent, body.action_type, body.limit, similar_to=body.similar_to))

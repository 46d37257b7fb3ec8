"""GET /v1/tools: which action type a tool's calls are, from the policy's `tools:` lists (hitl-mcp reads it)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from bot.web.auth import current_agent
from bot.web.error_responses import error_responses
from core.services import AgentIdentity

router = APIRouter(prefix="/v1", tags=["actions"])


class ToolMapView(BaseModel):
    tools: dict[str, str] = Field(description="Tool name -> action type, for the types this agent key may propose.")
    policy_version: str


@router.get("/tools", response_model=ToolMapView, responses=error_responses(401, 503))
def tool_map(request: Request, agent: Annotated[AgentIdentity, Depends(current_agent)]) -> ToolMapView:
    """The policy's mapping of tool names to action types, so a gate in front of tools (hitl-mcp)
    proposes each call as the type the operator chose, without a mapping of its own."""
    loaded = request.app.state.runtime.services.policies.current()
    mapping = loaded.policy.tool_action_types()
    return ToolMapView(tools={tool: kind for tool, kind in mapping.items() if agent.may_propose(kind)},
                       policy_version=loaded.version)

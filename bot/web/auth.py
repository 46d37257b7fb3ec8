"""Authentication: `Authorization: Bearer <key>`, checked against stored hashes. Agents' keys reach the
intake; operators' keys (core/operators.py) reach the operator routes; neither reaches the other's."""
from __future__ import annotations

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from core import operators
from core.agents import authenticate
from core.services import AgentIdentity

_bearer = HTTPBearer(auto_error=False, description="An agent key from `hitl agents create`.")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def current_agent(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> AgentIdentity:
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise HTTPException(401, "missing agent key: send Authorization: Bearer <key>", headers=_CHALLENGE)
    keys = request.app.state.agent_keys
    if (agent := keys.get(creds.credentials)) is not None:
        return agent
    agent = await run_in_threadpool(authenticate, request.app.state.runtime.services.db, creds.credentials)
    if agent is None:
        raise HTTPException(401, "unknown or revoked agent key", headers=_CHALLENGE)
    keys.put(creds.credentials, agent)
    return agent


_operator_bearer = HTTPBearer(auto_error=False, description="An operator key from `hitl operators create`.")


async def current_operator(request: Request,
                           creds: HTTPAuthorizationCredentials | None = Depends(_operator_bearer)) -> operators.Operator:
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise HTTPException(401, "missing operator key: send Authorization: Bearer <key>", headers=_CHALLENGE)
    found = await run_in_threadpool(operators.authenticate, request.app.state.runtime.services.db, creds.credentials)
    if found is None:
        raise HTTPException(401, "unknown or revoked operator key (agent keys are not operator keys)",
                            headers=_CHALLENGE)
    return found

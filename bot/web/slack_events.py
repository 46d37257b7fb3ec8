"""POST /slack/events: hands the raw request to Bolt (which verifies the signature) in a worker thread."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from slack_bolt.request import BoltRequest

router = APIRouter(include_in_schema=False)


@router.post("/slack/events")
async def slack_events(request: Request) -> Response:
    body = (await request.body()).decode("utf-8", errors="replace")
    bolt_request = BoltRequest(body=body, query=request.url.query, headers={k: v for k, v in request.headers.items()})
    bolt_response = await run_in_threadpool(request.app.state.bolt.dispatch, bolt_request)
    headers = {k: v[0] for k, v in bolt_response.headers.items() if v and k.lower() != "content-length"}
    return Response(content=bolt_response.body, status_code=bolt_response.status, headers=headers)

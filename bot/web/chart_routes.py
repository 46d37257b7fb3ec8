"""GET /charts/{token}.png: a /hitl-stats chart, for whoever holds its unguessable address (Slack's
image fetcher, App Home, a digest) until it expires (bot/charts/store.py)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from bot.charts import store

router = APIRouter(include_in_schema=False)


@router.get("/charts/{token}.png")
async def chart(token: str, request: Request) -> Response:
    runtime = request.app.state.runtime
    try:
        png = await run_in_threadpool(store.get, runtime.redis, token)
    except Exception:  # Redis down: the report in Slack still reads without its picture
        return JSONResponse({"error": "chart_unavailable", "detail": "charts are kept in Redis, which is down"},
                            status_code=503)
    if png is None:
        return JSONResponse({"error": "not_found", "detail": "no such chart, or it has expired"}, status_code=404)
    # Private: an address is a capability; immutable: one address never shows another picture.
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=86400, immutable"})

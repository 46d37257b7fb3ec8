from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

router = APIRouter(tags=["health"])


class Health(BaseModel):
    database: str
    redis: str


def _check(fn) -> str:
    try:
        fn()
        return "ok"
    except Exception as exc:  # the point is to report, not to raise
        return f"error: {exc.__class__.__name__}"


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
async def healthz(request: Request):
    runtime = request.app.state.runtime
    result = Health(database=await run_in_threadpool(_check, runtime.services.db.ping),
                    redis=await run_in_threadpool(_check, runtime.redis.ping))
    ok = result.database == "ok" and result.redis == "ok"
    return JSONResponse(result.model_dump(), status_code=200 if ok else 503)

"""One error shape for every 4xx/5xx, and the handlers that produce it. No stack trace leaves the process."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from core import errors as e

log = logging.getLogger(__name__)


class FieldProblem(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    error: str
    message: str
    fields: list[FieldProblem] = []


STATUS = {
    e.NotFound: 404,
    e.InvalidRequest: 422,
    e.InvalidDecision: 422,
    e.InvalidPayload: 422,
    e.NotAuthorised: 403,
    e.AlreadyDecided: 409,
    e.AlreadyVoted: 409,
    e.ExecutionRefused: 409,
    e.StaleView: 409,
    e.IdempotencyConflict: 409,
    e.IllegalTransition: 409,
}


def error_responses(*codes: int) -> dict:
    """OpenAPI declarations, so clients and schemathesis know every shape we answer with."""
    return {c: {"model": ErrorBody} for c in codes}


def body(error: str, message: str, fields: list[FieldProblem] | None = None) -> dict:
    return ErrorBody(error=error, message=message, fields=fields or []).model_dump()


def _field_name(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(e.HitlError)
    async def _domain(_: Request, exc: e.HitlError):
        status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
        fields = [FieldProblem(field=exc.field, message=exc.message)] if getattr(exc, "field", None) else []
        if isinstance(exc, (e.InvalidEdit, e.InvalidPayload)):
            # JSON Pointers into the request body, one per failing field.
            under = "/payload" if isinstance(exc, e.InvalidPayload) else "/edited_payload"
            fields = [FieldProblem(field=under + where, message=problem) for where, problem in exc.problems]
        return JSONResponse(body(exc.code, exc.message, fields), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError):
        problems = exc.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            p = problems[0]
            detail = p.get("ctx", {}).get("error", "")
            return JSONResponse(body("invalid_json", f"the body is not valid JSON: {detail}".strip(": ")), status_code=400)
        fields = [FieldProblem(field=_field_name(tuple(p["loc"])), message=p["msg"]) for p in problems]
        summary = "; ".join(f"{f.field}: {f.message}" for f in fields[:5])
        return JSONResponse(body("invalid_request", summary, fields), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        names = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                 413: "payload_too_large"}
        return JSONResponse(body(names.get(exc.status_code, "http_error"), str(exc.detail)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    # Down, too slow (statement or lock timeout), or every pooled connection busy: the request did
    # nothing, and says so quickly instead of holding a web thread.
    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _db_down(_: Request, exc: Exception):
        cause = getattr(exc, "orig", None) or exc
        log.error("database unavailable or too slow: %s", cause.__class__.__name__)
        return JSONResponse(body("unavailable", "the database is unavailable or did not answer in time; "
                                 "retry with the same Idempotency-Key"),
                            status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception):
        log.exception("unhandled error")
        return JSONResponse(body("internal", "internal error; it has been logged"), status_code=500)

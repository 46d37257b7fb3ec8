"""The browser editor: for a payload too large for a Slack modal. The Modify button hands the
reviewer a signed link (core/editor_links.py); the page edits the JSON, previews the diff and
checks the schema, and submits through the same decision path as a modal."""
from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from bot.web.error_responses import STATUS, error_responses
from core import deciding, editor_links, edits, masking
from core.diffing import text_diff
from core.errors import HitlError, InvalidEdit, InvalidRequest, NotAuthorised, StaleView
from core.queries import ReviewContext, review_context
from core.seen import Seen
from core.vocabulary import ReviewMode, Status

router = APIRouter(prefix="/edit", tags=["editor"], include_in_schema=False)
PAGE = (Path(__file__).with_name("editor_page.html")).read_text(encoding="utf-8")
_NOTICE = ("<!doctype html><meta charset='utf-8'><title>hitl-gate · edit payload</title>"
           "<body style='font:15px sans-serif;max-width:640px;margin:40px auto'>"
           "<h1 style='font-size:20px'>This editor link cannot be used</h1><p>{message}.</p></body>")


def editor_url(runtime, action_id: str, reviewer: str, seen: Seen) -> str | None:
    """A link for this reviewer and this revision; None when no secret is configured to sign it."""
    secret = runtime.settings.effective_editor_secret
    if secret is None:
        return None
    token = editor_links.issue(secret, action_id, reviewer, seen, runtime.services.clock())
    return f"{runtime.settings.effective_public_url}/edit/{token}"


class Edit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payload: dict[str, Any]
    removed_fields: list[Annotated[str, Field(max_length=1000)]] = Field(default=[], max_length=1000)
    comment: str | None = Field(default=None, max_length=3000)
    reason_tags: list[Annotated[str, Field(max_length=75)]] = Field(default=[], max_length=100)


def _open(request: Request, token: str) -> tuple[editor_links.EditorGrant, ReviewContext]:
    runtime = request.app.state.runtime
    secret = runtime.settings.effective_editor_secret
    if secret is None:
        raise InvalidRequest("the editor is not configured (HITL_EDITOR_SECRET)")
    grant = editor_links.read(secret, token, runtime.services.clock())
    ctx = review_context(runtime.services, grant.action_id)
    a = ctx.action
    if a.status is not Status.PENDING:
        raise StaleView(f"this action is {a.status.value} already: nothing is left to edit")
    if a.review_mode is ReviewMode.SHADOW:
        raise NotAuthorised("a shadow review is decided in Slack, without the agent's proposal")
    if Seen.of(a.revision, a.current_payload) != grant.seen:
        raise StaleView("the payload changed since this link was made: open Modify again in Slack")
    if any(v.reviewer == grant.reviewer and v.revision == a.revision for v in a.votes):
        raise StaleView("you have voted on this version already; this link is used")
    return grant, ctx


def _masks(ctx: ReviewContext) -> list[masking.Path]:
    """What the page must not show: the masked fields, unless the policy lets the editor change them."""
    return [] if ctx.route.get("masked_editable") else masking.paths(ctx.route)


def _groups(runtime):
    """The web process reads reviewer groups from the cache workers fill; it never asks Slack."""
    return runtime.groups.reading_only() if runtime.groups is not None else None


@router.get("/{token}", response_class=HTMLResponse)
async def page(request: Request, token: str) -> HTMLResponse:
    try:
        grant, ctx = await run_in_threadpool(_open, request, token)
    except HitlError as exc:
        # A person opened this link: answer in words on a page, not in JSON.
        status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
        return HTMLResponse(_NOTICE.replace("{message}", html.escape(exc.message)), status_code=status,
                            headers={"Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'"})
    masks = _masks(ctx)
    data = {"title": ctx.action.title, "action_id": ctx.action.id, "reviewer": grant.reviewer,
            "payload": masking.masked(ctx.action.current_payload, masks), "schema": ctx.route.get("payload_schema"),
            "masked": [masking.pointer(m) for m in masks], "reason_tags": list(ctx.reason_tags),
            "expires": grant.expires}
    # JSON inside <script>: `<` as \u003c, so no value can close the tag.
    embedded = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    return HTMLResponse(PAGE.replace("/*DATA*/null", embedded),
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                                 "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; "
                                                            "style-src 'unsafe-inline'; connect-src 'self'"})


@router.post("/{token}/check", responses=error_responses(409, 422))
def check(request: Request, token: str, edit: Annotated[Edit, Body()]) -> dict:
    """What submitting would record: the problems, the fields removed, and the diff. Records nothing."""
    _, ctx = _open(request, token)
    current, masks = ctx.action.current_payload, _masks(ctx)
    try:
        edited, problems = edits.checked(current, ctx.route, edit.payload, edit.removed_fields, bool(masks)), []
    except InvalidEdit as exc:
        edited = masking.restore(edit.payload, current, masks)[0]
        problems = exc.problems
    removed = [masking.pointer((k,)) for k in current if k not in edited]
    return {"problems": [{"field": p, "message": m} for p, m in problems], "removed": removed,
            "diff": text_diff(masking.masked(current, masks), masking.masked(edited, masks))}


@router.post("/{token}", responses=error_responses(403, 409, 422))
def submit(request: Request, token: str, edit: Annotated[Edit, Body()]) -> dict:
    grant, ctx = _open(request, token)
    runtime = request.app.state.runtime
    result = deciding.decide(runtime.services, grant.action_id, reviewer=grant.reviewer, kind="modify",
                             edited_payload=edit.payload, reason_tags=edit.reason_tags, comment=edit.comment,
                             source="editor", groups=_groups(runtime), seen=grant.seen,
                             removed_fields=edit.removed_fields or None,
                             keep_masked=not ctx.route.get("masked_editable"))
    assert result is not None
    return {"status": result.action.status.value, "final": result.final, "revision": result.action.revision}

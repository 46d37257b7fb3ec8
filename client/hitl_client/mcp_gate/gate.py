"""The MCP server the agent talks to: tools listed from the upstream, each call gated first."""
from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread
import httpx
import mcp_types as types
from mcp import Client
from mcp.server import Server
from mcp.server.context import ServerRequestContext

from hitl_client.client import Action, HitlClient, HitlError
from hitl_client.gating import Verdict, call_title, jsonable, settle, withdraw
from hitl_client.mcp_gate import own_tools
from hitl_client.mcp_gate.results import tool_error

log = logging.getLogger("hitl_client.mcp_gate")
_NOT_IN_A_TYPE = re.compile(r"[^A-Za-z0-9_.:-]")
META = "io.hitl-gate/"  # an agent may pass confidence, title and summary in a call's _meta under this prefix


@dataclass
class GateConfig:
    upstream: Any  # what mcp.Client connects to: a URL, StdioServerParameters, a Server (in tests); None: none
    offer_tools: bool = False  # also offer request_approval and get_examples (own_tools.py)
    prefix: str = ""
    action_types: dict[str, str] = field(default_factory=dict)  # --map: tool name -> action type, before the policy's
    confidence: float = 0.5  # when the call's _meta gives none: MCP calls carry no confidence of their own
    timeout: float | None = None  # seconds to wait for a reviewer; then the proposal is withdrawn
    progress_every: float = 5.0  # seconds between progress notifications while a reviewer decides

    def action_type(self, tool: str, from_policy: str | None = None) -> str:
        """--map first, then the policy's `tools:` lists, else the prefix and the tool's name."""
        return self.action_types.get(tool) or from_policy or _NOT_IN_A_TYPE.sub("_", self.prefix + tool)[:64]


class PolicyTools:
    """The policy's tool -> action type mapping (GET /v1/tools), read again at most every `every`
    seconds so a policy edit reaches the gate; while the gate cannot answer, the last read stays."""

    def __init__(self, client: HitlClient, every: float = 10.0):
        self.client, self.every, self.mapping, self.next_read = client, every, {}, 0.0

    def get(self, tool: str) -> str | None:
        if time.monotonic() >= self.next_read:
            try:
                self.mapping = self.client.tool_map()
            except (HitlError, httpx.HTTPError):
                pass  # an older gate without /v1/tools, or a blip: the proposal itself will say if the gate is down
            self.next_read = time.monotonic() + self.every
        return self.mapping.get(tool)


def build(config: GateConfig, client: HitlClient) -> Server:
    """The gate as an MCP server; it opens one upstream connection for its lifetime."""
    policy_tools = PolicyTools(client)

    @asynccontextmanager
    async def outcomes() -> AsyncIterator[ThreadPoolExecutor]:
        # The agent gets the upstream's answer without waiting for the outcome's record (a round trip
        # that cost a third of the gate's time per call); the records go in order, all before exit.
        reports = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hitl-outcomes")
        try:
            yield reports
        finally:
            await anyio.to_thread.run_sync(reports.shutdown)

    @asynccontextmanager
    async def lifespan(_server: Server) -> AsyncIterator[dict[str, Any]]:
        async with outcomes() as reports:
            if config.upstream is None:
                yield {"upstream": None, "outcomes": reports}
                return
            async with Client(config.upstream) as up:
                yield {"upstream": up, "outcomes": reports}

    async def list_tools(ctx: ServerRequestContext, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        cursor = params.cursor if params else None
        ours = own_tools.TOOLS if config.offer_tools and cursor is None else []
        up: Client | None = ctx.lifespan_context["upstream"]
        if up is None:
            return types.ListToolsResult(tools=ours)
        listed = await up.list_tools(cursor=cursor)
        # Ours come first and shadow an upstream tool of the same name, which would never be reached.
        hidden = own_tools.NAMES if config.offer_tools else set()
        return types.ListToolsResult(tools=ours + [t for t in listed.tools if t.name not in hidden],
                                     next_cursor=listed.next_cursor)

    async def call_tool(ctx: ServerRequestContext, params: types.CallToolRequestParams) -> types.CallToolResult:
        try:
            return await gated_call(ctx, params)
        except HitlError as refused:  # fail closed: what the gate did not approve never runs
            return tool_error(f"hitl-gate refused this call ({refused.status} {refused.code}): {refused.message}. "
                          "It was not carried out.")
        except httpx.HTTPError as down:
            return tool_error(f"hitl-gate could not be reached ({type(down).__name__}), so the call was not carried "
                          "out. Try again later.")

    async def gated_call(ctx: ServerRequestContext, params: types.CallToolRequestParams) -> types.CallToolResult:
        if config.offer_tools and params.name in own_tools.NAMES:
            return await own_tools.call(params.name, dict(params.arguments or {}), client,
                                        lambda action, timeout: _decide(ctx, client, action, config, timeout))
        up: Client | None = ctx.lifespan_context["upstream"]
        if up is None:
            return tool_error(f"no tool called {params.name!r}")
        arguments = dict(params.arguments or {})
        hints = {k[len(META):]: v for k, v in (params.meta or {}).items() if k.startswith(META)}
        sure = hints.get("confidence", config.confidence)
        if not isinstance(sure, (int, float)) or isinstance(sure, bool) or not 0 <= sure <= 1:
            return tool_error(f"{META}confidence must be a number from 0 to 1, not {sure!r}; the call was not carried out.")
        action = await anyio.to_thread.run_sync(lambda: client.request(
            config.action_type(params.name, policy_tools.get(params.name)),
            _title(hints.get("title"), params.name, arguments), arguments, float(sure),
            summary=str(hints.get("summary") or ""), context={"mcp_tool": params.name}))
        verdict = await _decide(ctx, client, action, config, config.timeout)
        if verdict.payload is None:
            return tool_error(_timed_out(config.timeout) if _withdrawn(verdict) else verdict.message or "not carried out")
        try:
            result = await up.call_tool(params.name, verdict.payload)
        except Exception as exc:
            _report(ctx, client, action.id, "failed", {"error": repr(exc)[:1000]})
            raise
        _report(ctx, client, action.id, "failed" if result.is_error else "executed", _outcome(result))
        return result

    return Server("hitl-gate", lifespan=lifespan, on_list_tools=list_tools, on_call_tool=call_tool)



async def _decide(ctx: ServerRequestContext, client: HitlClient, action: Action, config: GateConfig,
                  timeout: float | None) -> Verdict:
    """Long-polls the gate in short slices, telling the agent it waits; a cancelled call withdraws the proposal."""
    started = time.monotonic()
    try:
        while not action.decided:
            waited = time.monotonic() - started
            if timeout is not None and waited >= timeout:
                break
            await ctx.session.report_progress(waited, timeout, f"waiting for a human reviewer ({action.id})")
            slice_ = config.progress_every if timeout is None else min(config.progress_every, timeout - waited)
            # Abandoned on cancellation: the long-poll thread ends by itself within one slice.
            action = await anyio.to_thread.run_sync(lambda a=action, s=slice_: client.wait(a.id, timeout=s),
                                                    abandon_on_cancel=True)
    except anyio.get_cancelled_exc_class():
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(lambda: withdraw(client, action.id))
        raise
    return await anyio.to_thread.run_sync(lambda: settle(client, action))


def _title(given: Any, tool: str, arguments: dict[str, Any]) -> str:
    return str(given)[:200] if given else call_title(tool, arguments)


def _withdrawn(verdict: Verdict) -> bool:
    return verdict.action.status == "cancelled"


def _timed_out(timeout: float | None) -> str:
    return (f"No reviewer decided within {timeout or 0:g} s, so the call was withdrawn and not carried out. "
            "Do not retry it unchanged; ask the user, or try again later.")


def _outcome(result: types.CallToolResult) -> Any:
    """What the upstream answered, for the gate's record: its structured content, else its text (as JSON when it is)."""
    if result.structured_content is not None:
        return jsonable(result.structured_content)
    text = "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))
    try:
        return json.loads(text)
    except ValueError:
        return text[:10_000]


def _report(ctx: ServerRequestContext, client: HitlClient, action_id: str, status: str, result: Any) -> None:
    def send() -> None:
        try:
            client.report_outcome(action_id, status, result)
        except Exception:  # the call itself has run and been answered; only its record is missing
            log.exception("could not record the outcome of %s", action_id)

    ctx.lifespan_context["outcomes"].submit(send)

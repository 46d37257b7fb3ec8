"""hitl-gate behind the OpenAI Agents SDK. Two ways in:

- `gate_function_tool(tool, client, action_type)`: a `FunctionTool` (from `@function_tool`) whose
  every call waits for a Slack reviewer and runs, once, with the arguments the reviewer approved;
  a rejection's reasons are the tool's answer to the model.
- `answer_approvals(client, result)`: for tools declared with the SDK's own `needs_approval`: each
  of a run's interruptions is proposed to the gate, and the returned `RunState` carries the
  approvals and rejections (with the reviewer's reasons) for `Runner.run(agent, state)`. The SDK
  can only approve a call as the model made it, so a reviewer's edit is not run there: the call is
  refused with the approved arguments in the message (use `gate_function_tool` to run edits). The
  SDK runs an approved call after the resume, out of the gate's sight, so no outcome is reported.

Needs the `openai-agents` extra: pip install 'hitl-client[openai-agents]'."""
from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

from agents import FunctionTool, RunResult, RunState

from hitl_client.client import HitlClient
from hitl_client.gating import Confidence, jsonable, propose_call


def gate_function_tool(tool: FunctionTool, client: HitlClient, action_type: str | None = None, *,
                       confidence: Confidence = 0.5, timeout: float | None = None,
                       report_outcome: bool = True) -> FunctionTool:
    """`tool`, same name, description and schema, behind the gate."""
    kind = action_type or tool.name
    run_tool = tool.on_invoke_tool

    async def invoke(ctx: Any, input_json: str) -> Any:
        args = json.loads(input_json or "{}")
        verdict = await asyncio.to_thread(propose_call, client, tool.name, args, action_type=kind,
                                          confidence=confidence, timeout=timeout)
        if verdict.payload is None:
            return verdict.message
        try:
            result = await run_tool(ctx, json.dumps(verdict.payload))
        except Exception as exc:
            if report_outcome:
                await asyncio.to_thread(client.report_outcome, verdict.action.id, "failed", {"error": repr(exc)[:1000]})
            raise
        if report_outcome:
            await asyncio.to_thread(client.report_outcome, verdict.action.id, "executed", jsonable(result))
        return result

    return dataclasses.replace(tool, on_invoke_tool=invoke)


def answer_approvals(client: HitlClient, result: RunResult, *, action_types: dict[str, str] | None = None,
                     confidence: Confidence = 0.5, timeout: float | None = None) -> RunState:
    """The run's state with every pending approval decided by the gate (blocks while reviewers decide)."""
    state = result.to_state()
    for item in result.interruptions:
        name = item.tool_name or ""
        args = json.loads(getattr(item, "arguments", None) or "{}")
        verdict = propose_call(client, name, args, action_type=(action_types or {}).get(name, name),
                               confidence=confidence, timeout=timeout)
        if verdict.payload == args:
            state.approve(item)
        elif verdict.payload is not None:
            # Claimed, but the SDK would run the model's arguments: record that it did not run.
            client.report_outcome(verdict.action.id, "failed", {"error": "edited arguments cannot run through "
                                                                          "the SDK's approval; not run"})
            state.reject(item, rejection_message=(
                f"A reviewer approved this call only with other arguments: {json.dumps(verdict.payload, sort_keys=True)}. "
                "It was not run. Call the tool again with exactly those arguments if they still serve the task."))
        else:
            state.reject(item, rejection_message=verdict.message)
    return state

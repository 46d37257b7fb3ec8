"""hitl-gate behind LangGraph: a graph's risky tools wait for a Slack reviewer instead of an
in-process prompt. Two ways in, and one vocabulary (LangChain's HITL decisions):

- `gate_tool(tool, client, action_type)`: the tool itself proposes each call and runs, once, with
  the arguments the reviewer approved; a rejection becomes the tool's answer to the model.
- `resume_with_gate(client, interrupts, ...)`: for graphs that already use LangChain's
  `HumanInTheLoopMiddleware` (batched or per call): each interrupt's tool calls are proposed to the
  gate, and the decisions come back as the `Command(resume=...)` the middleware expects.
  `decision_for(verdict, name, args)` is the mapping: approve, edit with the edited arguments,
  reject with the reason.

Needs the `langgraph` extra: pip install 'hitl-client[langgraph]'."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from langgraph.types import Command, Interrupt

from hitl_client.client import HitlClient
from hitl_client.gating import Confidence, Verdict, jsonable, propose_call


def decision_for(verdict: Verdict, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """A settled gate verdict as LangChain's HITL decision for one tool call."""
    if verdict.payload is None:
        return {"type": "reject", "message": verdict.message or "not approved"}
    if verdict.payload == args:
        return {"type": "approve"}
    return {"type": "edit", "edited_action": {"name": name, "args": verdict.payload}}


def gate_tool(tool: BaseTool, client: HitlClient, action_type: str | None = None, *, confidence: Confidence = 0.5,
              timeout: float | None = None, report_outcome: bool = True) -> BaseTool:
    """`tool`, same name, description and arguments, behind the gate."""
    kind = action_type or tool.name

    def gated(**args: Any) -> Any:
        verdict = propose_call(client, tool.name, args, action_type=kind, confidence=confidence, timeout=timeout)
        if verdict.payload is None:
            return verdict.message
        try:
            result = tool.invoke(verdict.payload)
        except Exception as exc:
            if report_outcome:
                client.report_outcome(verdict.action.id, "failed", {"error": repr(exc)[:1000]})
            raise
        if report_outcome:
            client.report_outcome(verdict.action.id, "executed", jsonable(result))
        return result

    return StructuredTool.from_function(gated, name=tool.name, description=tool.description,
                                        args_schema=tool.args_schema, return_direct=tool.return_direct)


def resume_with_gate(client: HitlClient, interrupts: Iterable[Interrupt], *, action_types: dict[str, str] | None = None,
                     confidence: Confidence = 0.5, timeout: float | None = None) -> Command:
    """The `Command` that answers `HumanInTheLoopMiddleware`'s interrupts with the gate's decisions.
    `action_types` maps a tool name to its action type (default: the tool's name)."""
    kinds = action_types or {}

    def decide(name: str, args: dict[str, Any]) -> dict[str, Any]:
        verdict = propose_call(client, name, args, action_type=kinds.get(name, name), confidence=confidence,
                               timeout=timeout)
        return decision_for(verdict, name, args)

    answers: dict[str, Any] = {}
    for it in interrupts:
        value = it.value
        if isinstance(value, dict) and value.get("type") == "tool_approval":  # per_call: one decision per interrupt
            answers[it.id] = decide(value["name"], value["args"])
        elif isinstance(value, dict) and "action_requests" in value:  # batched: every call of a model turn
            answers[it.id] = {"decisions": [decide(r["name"], r["args"]) for r in value["action_requests"]]}
        else:
            raise ValueError(f"interrupt {it.id} is not HumanInTheLoopMiddleware's: {value!r:.200}")
    return Command(resume=answers)

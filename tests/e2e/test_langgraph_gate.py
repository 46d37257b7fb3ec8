"""hitl-gate behind real compiled LangGraph graphs (LangChain's create_agent), offline: a fake chat
model asks for a refund, the gate holds it for a reviewer who answers with `hitl decide`, and the
tool runs only as approved. Both ways in: the gated tool, and HumanInTheLoopMiddleware's interrupts
answered by the gate."""
from __future__ import annotations

import threading

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from core.store.tables import Action
from hitl_client import HitlClient
from hitl_client.client import Action as ClientAction
from hitl_client.gating import Verdict
from hitl_client.langgraph_gate import decision_for, gate_tool, resume_with_gate
from tests.e2e.test_agent_flow import cli
from tests.waiting import wait_for


class ToolCallingFake(GenericFakeChatModel):
    """The fake chat model, able to stand in an agent: it takes the tools and ignores them."""

    def bind_tools(self, tools, **kwargs):
        return self


def model_asking_for(args: dict) -> ToolCallingFake:
    return ToolCallingFake(messages=iter([
        AIMessage(content="", tool_calls=[{"name": "issue_refund", "args": args, "id": "call_1", "type": "tool_call"}]),
        AIMessage(content="done"),
    ]))


def refund_tool(ran: list):
    @tool
    def issue_refund(order: str, amount: float) -> str:
        """Refund part or all of an order."""
        ran.append({"order": order, "amount": amount})
        return f"refunded {amount:g} for order {order}"

    return issue_refund


def answer_when_proposed(live, settings, *decision: str) -> threading.Thread:
    """A reviewer who answers the next pending proposal with `hitl decide`."""
    def pending():
        with live.runtime.services.db.read() as s:
            return s.query(Action.id).filter_by(status="pending").scalar()

    def run():
        action_id = wait_for(pending, 60, "the graph's proposal")
        result = cli(settings, "decide", action_id, *decision)
        assert result.returncode == 0, result.stderr

    t = threading.Thread(target=run)
    t.start()
    return t


def tool_answer(result) -> str:
    return [m for m in result["messages"] if isinstance(m, ToolMessage)][-1].content


def test_a_gated_tool_runs_once_with_the_reviewers_edit(live, settings):
    ran: list = []
    with HitlClient(live.url, live.key) as client:
        graph = create_agent(model_asking_for({"order": "42", "amount": 120}),
                             tools=[gate_tool(refund_tool(ran), client, "refund")])
        reviewer = answer_when_proposed(live, settings, "modify", "--reviewer", "UALICE", "--set", "amount=100")
        result = graph.invoke({"messages": [HumanMessage("refund order 42, it was charged twice")]})
        reviewer.join()
    assert ran == [{"order": "42", "amount": 100}]
    assert tool_answer(result) == "refunded 100 for order 42" and result["messages"][-1].content == "done"
    with live.runtime.services.db.read() as s:
        assert s.query(Action).one().status == "executed"


def test_a_gated_tool_tells_the_model_why_it_was_rejected(live, settings):
    ran: list = []
    with HitlClient(live.url, live.key) as client:
        graph = create_agent(model_asking_for({"order": "42", "amount": 120}),
                             tools=[gate_tool(refund_tool(ran), client, "refund")])
        reviewer = answer_when_proposed(live, settings, "reject", "--reviewer", "UBOB", "--tag", "policy_violation",
                                        "--comment", "refunded last week")
        result = graph.invoke({"messages": [HumanMessage("refund order 42")]})
        reviewer.join()
    assert ran == []
    answer = tool_answer(result)
    assert "REJECTED" in answer and "policy_violation" in answer and "refunded last week" in answer


@pytest.mark.parametrize("mode", ["batched", "per_call"])
def test_the_middlewares_interrupts_are_answered_by_the_gate(live, settings, mode):
    ran: list = []
    graph = create_agent(model_asking_for({"order": "42", "amount": 120}), tools=[refund_tool(ran)],
                         middleware=[HumanInTheLoopMiddleware(interrupt_on={"issue_refund": True}, interrupt_mode=mode)],
                         checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": f"refunds-{mode}"}}
    paused = graph.invoke({"messages": [HumanMessage("refund order 42")]}, config)
    assert paused["__interrupt__"] and ran == []  # the middleware stopped before the tool
    with HitlClient(live.url, live.key) as client:
        reviewer = answer_when_proposed(live, settings, "modify", "--reviewer", "UCAROL", "--set", "amount=60")
        resume = resume_with_gate(client, paused["__interrupt__"], action_types={"issue_refund": "refund"})
        reviewer.join()
        result = graph.invoke(resume, config)
    assert ran == [{"order": "42", "amount": 60}]
    assert "refunded 60 for order 42" in tool_answer(result)


def test_a_middleware_rejection_reaches_the_model_and_nothing_runs(live, settings):
    ran: list = []
    graph = create_agent(model_asking_for({"order": "42", "amount": 120}), tools=[refund_tool(ran)],
                         middleware=[HumanInTheLoopMiddleware(interrupt_on={"issue_refund": True})],
                         checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "refunds-reject"}}
    paused = graph.invoke({"messages": [HumanMessage("refund order 42")]}, config)
    with HitlClient(live.url, live.key) as client:
        reviewer = answer_when_proposed(live, settings, "reject", "--reviewer", "UALICE", "--tag", "policy_violation")
        resume = resume_with_gate(client, paused["__interrupt__"], action_types={"issue_refund": "refund"})
        reviewer.join()
        result = graph.invoke(resume, config)
    assert ran == [] and "policy_violation" in tool_answer(result)


def test_decisions_in_langchains_vocabulary():
    action = ClientAction({"id": "act_1", "status": "approved", "title": "t"})
    args = {"order": "42", "amount": 120}
    assert decision_for(Verdict(action, dict(args), None), "issue_refund", args) == {"type": "approve"}
    assert decision_for(Verdict(action, {"order": "42", "amount": 100}, None), "issue_refund", args) == {
        "type": "edit", "edited_action": {"name": "issue_refund", "args": {"order": "42", "amount": 100}}}
    assert decision_for(Verdict(action, None, "no: policy_violation"), "issue_refund", args) == {
        "type": "reject", "message": "no: policy_violation"}

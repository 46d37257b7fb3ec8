"""hitl-gate behind the OpenAI Agents SDK, offline: the SDK's own scripted model asks for a refund,
a reviewer answers with `hitl decide`, and the tool runs only as approved. Both ways in: the gated
function tool, and the SDK's needs_approval interruptions answered by the gate."""
from __future__ import annotations

import pytest
from agents import Agent, Runner, ToolCallOutputItem, function_tool, set_tracing_disabled
from agents.testing import ScriptedModel, assistant_message, function_call

from core.store.tables import Action
from hitl_client import HitlClient
from hitl_client.openai_agents_gate import answer_approvals, gate_function_tool
from tests.e2e.test_langgraph_gate import answer_when_proposed
from tests.own_thread import in_own_thread

set_tracing_disabled(True)  # offline: the SDK would otherwise try to export traces


def scripted(args: dict) -> ScriptedModel:
    return ScriptedModel([[function_call("issue_refund", args, call_id="call_1")], [assistant_message("done")]])


def refund_tool(ran: list, **options):
    @function_tool(**options)
    def issue_refund(order: str, amount: float) -> str:
        """Refund part or all of an order."""
        ran.append({"order": order, "amount": amount})
        return f"refunded {amount:g} for order {order}"

    return issue_refund


def tool_output(result) -> str:
    return [i for i in result.new_items if isinstance(i, ToolCallOutputItem)][-1].output


def test_a_gated_function_tool_runs_once_with_the_reviewers_edit(live, settings):
    ran: list = []
    with HitlClient(live.url, live.key) as client:
        agent = Agent(name="refunds", model=scripted({"order": "42", "amount": 120}),
                      tools=[gate_function_tool(refund_tool(ran), client, "refund", confidence=0.7)])
        reviewer = answer_when_proposed(live, settings, "modify", "--reviewer", "UALICE", "--set", "amount=100")
        result = in_own_thread(Runner.run_sync, agent, "refund order 42, it was charged twice")
        reviewer.join()
    assert ran == [{"order": "42", "amount": 100}]
    assert tool_output(result) == "refunded 100 for order 42" and result.final_output == "done"
    with live.runtime.services.db.read() as s:
        action = s.query(Action).one()
        assert action.status == "executed" and action.confidence == 0.7


def test_a_gated_function_tool_gives_the_model_the_reasons_of_a_rejection(live, settings):
    ran: list = []
    with HitlClient(live.url, live.key) as client:
        agent = Agent(name="refunds", model=scripted({"order": "42", "amount": 120}),
                      tools=[gate_function_tool(refund_tool(ran), client, "refund")])
        reviewer = answer_when_proposed(live, settings, "reject", "--reviewer", "UBOB", "--tag", "policy_violation",
                                        "--comment", "refunded last week")
        result = in_own_thread(Runner.run_sync, agent, "refund order 42")
        reviewer.join()
    assert ran == []
    assert "policy_violation" in tool_output(result) and "refunded last week" in tool_output(result)


@pytest.mark.parametrize(("decision", "expect_ran", "says", "status"), [
    (("approve",), [{"order": "42", "amount": 120}], "refunded 120 for order 42", "approved"),
    (("reject", "--tag", "policy_violation", "--comment", "no"), [], "policy_violation", "rejected"),
    # The SDK approves only the model's own arguments: an edit is refused, with the approved ones, and recorded unrun.
    (("modify", "--set", "amount=80"), [], '"amount": 80', "failed"),
])
def test_needs_approval_interruptions_are_decided_by_the_gate(live, settings, decision, expect_ran, says, status):
    ran: list = []
    agent = Agent(name="refunds", model=scripted({"order": "42", "amount": 120}),
                  tools=[refund_tool(ran, needs_approval=True)])
    paused = in_own_thread(Runner.run_sync, agent, "refund order 42")
    assert len(paused.interruptions) == 1 and ran == []
    with HitlClient(live.url, live.key) as client:
        reviewer = answer_when_proposed(live, settings, decision[0], "--reviewer", "UCAROL", *decision[1:])
        state = answer_approvals(client, paused, action_types={"issue_refund": "refund"})
        reviewer.join()
    result = in_own_thread(Runner.run_sync, agent, state)
    assert ran == expect_ran and says in tool_output(result) and result.final_output == "done"
    with live.runtime.services.db.read() as s:
        assert s.query(Action).one().status == status

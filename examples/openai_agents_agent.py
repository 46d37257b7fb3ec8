"""An OpenAI Agents SDK agent whose refund tool waits for a Slack reviewer.

Run the service (`make run`), create a key (`.venv/bin/hitl agents create sdk-agent`), then:

    HITL_URL=http://127.0.0.1:8000 HITL_API_KEY=hitl_... .venv/bin/python examples/openai_agents_agent.py

The model here is the SDK's own scripted stand-in, so the example runs offline: drop `model=` to
use OpenAI's. Decide the refund in the sandbox, or:

    .venv/bin/hitl decide <id> reject --reviewer U0ALICE01 --tag policy_violation --comment "past 30 days"
"""
from __future__ import annotations

import os

from agents import Agent, Runner, ToolCallOutputItem, function_tool, set_tracing_disabled
from agents.testing import ScriptedModel, assistant_message, function_call

from hitl_client import HitlClient
from hitl_client.openai_agents_gate import gate_function_tool


@function_tool
def issue_refund(order: str, amount: float) -> str:
    """Refund part or all of an order."""
    return f"refunded {amount:g} on order {order}"  # the real side effect goes here


def main() -> None:
    set_tracing_disabled(True)  # the scripted model runs offline; keep tracing if you use OpenAI's
    model = ScriptedModel([[function_call("issue_refund", {"order": "A-1002", "amount": 60}, call_id="call_1")],
                           [assistant_message("I have dealt with the refund request.")]])
    with HitlClient(os.environ.get("HITL_URL", "http://127.0.0.1:8000"), os.environ["HITL_API_KEY"]) as hitl:
        agent = Agent(name="refunds", model=model,
                      tools=[gate_function_tool(issue_refund, hitl, "refund", confidence=0.8, timeout=600)])
        print("the refund waits for a reviewer…", flush=True)
        result = Runner.run_sync(agent, "Order A-1002 was charged twice; refund it.")
    print("tool answered:", [i for i in result.new_items if isinstance(i, ToolCallOutputItem)][-1].output)
    print("agent said:", result.final_output)


if __name__ == "__main__":
    main()

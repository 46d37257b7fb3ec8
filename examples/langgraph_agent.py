"""A LangGraph agent whose refund tool waits for a Slack reviewer instead of an in-process prompt.

Run the service (`make run`), create a key (`.venv/bin/hitl agents create graph-agent`), then:

    HITL_URL=http://127.0.0.1:8000 HITL_API_KEY=hitl_... .venv/bin/python examples/langgraph_agent.py

The chat model here is a scripted stand-in, so the example runs offline: put your own model (for
example `init_chat_model("openai:gpt-5")`) in its place. Decide the refund in the sandbox, or:

    .venv/bin/hitl decide <id> modify --reviewer U0ALICE01 --set amount=40
"""
from __future__ import annotations

import os

from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from hitl_client import HitlClient
from hitl_client.langgraph_gate import gate_tool


class ScriptedChatModel(GenericFakeChatModel):
    def bind_tools(self, tools, **kwargs):
        return self


@tool
def issue_refund(order: str, amount: float) -> str:
    """Refund part or all of an order."""
    return f"refunded {amount:g} on order {order}"  # the real side effect goes here


def main() -> None:
    model = ScriptedChatModel(messages=iter([
        AIMessage(content="", tool_calls=[{"name": "issue_refund", "args": {"order": "A-1002", "amount": 60},
                                           "id": "call_1", "type": "tool_call"}]),
        AIMessage(content="I have dealt with the refund request."),
    ]))
    with HitlClient(os.environ.get("HITL_URL", "http://127.0.0.1:8000"), os.environ["HITL_API_KEY"]) as hitl:
        # confidence: your model's own estimate; below the policy's threshold a human decides.
        graph = create_agent(model, tools=[gate_tool(issue_refund, hitl, "refund", confidence=0.8, timeout=600)])
        print("the refund waits for a reviewer…", flush=True)
        result = graph.invoke({"messages": [HumanMessage("Order A-1002 was charged twice; refund it.")]})
    answer = [m for m in result["messages"] if isinstance(m, ToolMessage)][-1].content
    print("tool answered:", answer)
    print("agent said:", result["messages"][-1].content)


if __name__ == "__main__":
    main()

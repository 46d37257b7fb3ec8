"""An example agent: proposes a refund through the gate and acts only on approval.

Run the service (`make run`), create a key (`.venv/bin/hitl agents create demo-agent`), then:

    HITL_URL=http://127.0.0.1:8000 HITL_API_KEY=hitl_... .venv/bin/python examples/agent.py

While it waits, decide from another terminal (the Slack buttons do the same):

    .venv/bin/hitl actions list
    .venv/bin/hitl decide <id> approve --reviewer U0ALICE01
    .venv/bin/hitl decide <id> modify --reviewer U0ALICE01 --set amount=40
    .venv/bin/hitl decide <id> reject --reviewer U0ALICE01 --tag policy_violation --comment "past 30 days"
"""
from __future__ import annotations

import os

from hitl_client import HitlClient, require_approval

# HITL_KEY is the name this example read before the adapters' examples settled on HITL_API_KEY.
hitl = HitlClient(os.environ.get("HITL_URL", "http://127.0.0.1:8000"),
                  os.environ.get("HITL_API_KEY") or os.environ["HITL_KEY"])


def confidence_for(order_id: str, amount: float, reason: str) -> float:
    # A real agent would use its model's own estimate; this one is less sure about large refunds.
    return 0.99 if amount < 20 else 0.75


@require_approval(hitl, action_type="refund", title="Refund {amount} for order {order_id}", confidence=confidence_for,
                  summary=lambda order_id, amount, reason: f"Customer reports: {reason}", timeout=600)
def issue_refund(order_id: str, amount: float, reason: str) -> str:
    # The real side effect would go here; it runs with the arguments the reviewer approved.
    return f"refunded {amount} on order {order_id}"


if __name__ == "__main__":
    print("small refund:", issue_refund("A-1001", 12.5, "item arrived damaged"))
    print("waiting for a reviewer on a larger refund…")
    print("large refund:", issue_refund("A-1002", 60.0, "double charged"))

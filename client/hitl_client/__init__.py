"""A small HTTP client for agents: propose an action, wait for the human decision, report the outcome.

    from hitl_client import HitlClient, require_approval

    hitl = HitlClient("http://127.0.0.1:8000", api_key="hitl_...")

    @require_approval(hitl, action_type="refund", title="Refund {order_id}")
    def refund(order_id: str, amount: float) -> str: ...
"""
from hitl_client.callback_verify import verify_callback
from hitl_client.client import Action, HitlClient, HitlError, Rejected, examples_prompt, payload_sha256
from hitl_client.decorator import require_approval

__all__ = ["Action", "HitlClient", "HitlError", "Rejected", "examples_prompt", "payload_sha256", "require_approval",
           "verify_callback"]

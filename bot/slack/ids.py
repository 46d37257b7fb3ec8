"""Every action_id, block_id prefix and callback_id in one place."""

APPROVE = "hitl_approve"
MODIFY = "hitl_modify"
REJECT = "hitl_reject"
REASON_TAG = "hitl_reason_tag"
CLAIM = "hitl_claim"
VIEW_PAYLOAD = "hitl_view_payload"
BUTTONS = (APPROVE, MODIFY, REJECT, CLAIM, VIEW_PAYLOAD)

AUDIT_OK = "hitl_audit_ok"  # sampled auto-approval: "Looks right"
AUDIT_FLAG = "hitl_audit_flag"  # "Should not have happened" (needs a reason tag)
AUDIT_TAG = "hitl_audit_tag"
AUDIT_BLOCK = "hitl_audit"

ACTIONS_BLOCK = "hitl_actions"

REJECT_VIEW = "hitl_reject_view"
MODIFY_VIEW = "hitl_modify_view"
PAYLOAD_VIEW = "hitl_payload_view"

TAGS_BLOCK = "tags"
COMMENT_BLOCK = "comment"
JSON_BLOCK = "payload_json"
FIELD_PREFIX = "f:"
RATING_PREFIX = "rating:"
INPUT = "value"  # the action_id of every modal input

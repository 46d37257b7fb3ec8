"""Every action_id, block_id prefix and callback_id in one place."""

APPROVE = "hitl_approve"
MODIFY = "hitl_modify"
REJECT = "hitl_reject"
REASON_TAG = "hitl_reason_tag"
CLAIM = "hitl_claim"
VIEW_PAYLOAD = "hitl_view_payload"
BUTTONS = (APPROVE, MODIFY, REJECT, CLAIM, VIEW_PAYLOAD)

# A spot check of a sampled auto-approval. The values keep their first names: they are in messages
# already posted, whose buttons must still work.
SPOT_CHECK_OK = "hitl_audit_ok"  # "Looks right"
SPOT_CHECK_FLAG = "hitl_audit_flag"  # "Should not have happened" (needs a reason tag)
SPOT_CHECK_TAG = "hitl_audit_tag"
SPOT_CHECK_BLOCK = "hitl_audit"

ACTIONS_BLOCK = "hitl_actions"

REJECT_VIEW = "hitl_reject_view"
MODIFY_VIEW = "hitl_modify_view"
PAYLOAD_VIEW = "hitl_payload_view"

TAGS_BLOCK = "tags"
COMMENT_BLOCK = "comment"
JSON_BLOCK = "payload_json"
REMOVE_BLOCK = "remove_fields"
EDITOR_BLOCK = "editor"
OPEN_EDITOR = "hitl_open_editor"  # a link button: Slack still sends a block_actions, which is acked
EDITOR_VIEW = "hitl_editor_view"
FIELD_PREFIX = "f:"
RATING_PREFIX = "rating:"
INPUT = "value"  # the action_id of every modal input

"""Block Kit output for hostile and oversized agent content: escaped, masked, within every limit."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.slack import ids, modal_blocks, review_blocks
from bot.slack.modal_metadata import ModalMetadata
from bot.slack.mrkdwn import clip, escape
from core.action_view import ActionView, DecisionView, QuorumView
from core.queries import ReviewContext
from core.vocabulary import DEFAULT_REASON_TAGS
from tests.slack.blockkit import assert_valid_message, assert_valid_modal

NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
HOSTILE = "<!channel> <!here> <@U0BOSS> <https://evil.example|Approve here> &amp; <#C123> <!subteam^S1>"


def ctx(payload=None, title="Refund", summary="because", mask=(), decision=None, required=1, approvals=()):
    payload = {"amount": 5} if payload is None else payload
    view = ActionView(
        id="act_" + "0" * 32, action_type="refund", title=title, summary=summary,
        status="pending" if not decision else decision.status,
        review_mode="review", rule="refund.rules[0] (big)", explanation="confidence 0.5 < 0.9", risk="high",
        confidence=0.5, payload=payload, current_payload=payload, revision=0, context={}, run_id=None, call_id=None,
        state=None, deadline=None, policy_version="p@1", created_at=NOW,
        quorum=QuorumView(required=required, approvals=list(approvals)), votes=[], decision=decision, outcome=None)
    return ReviewContext(action=view, route={"mask_fields": list(mask), "explanation": "x"}, agent="bot <!channel>",
                         reason_tags=DEFAULT_REASON_TAGS, due_at=NOW)


def all_text(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)


def test_escape_and_clip_do_not_leave_half_an_entity():
    assert escape("a & <b> c") == "a &amp; &lt;b&gt; c"
    assert escape("&lt;") == "&amp;lt;"  # & first: no double-decoding trick
    assert clip("abc&amp;", 6) == "abc…"
    assert clip("abcdef", 6) == "abcdef" and len(clip("x" * 100, 10)) == 10


def test_hostile_agent_text_pings_nobody_and_hides_no_link():
    c = ctx(payload={"note": HOSTILE, HOSTILE: 1, "nested": {"x": HOSTILE}}, title=HOSTILE, summary=HOSTILE)
    message = review_blocks.review_message(c)
    assert_valid_message(message)
    mrkdwn = [t["text"] for t in _texts(message) if t["type"] == "mrkdwn"]
    for text in mrkdwn:
        for bad in ("<!channel>", "<!here>", "<@U0BOSS>", "<https://evil", "<#C123>", "<!subteam"):
            assert bad not in text, text
    assert any("&lt;!channel&gt;" in t for t in mrkdwn)
    assert "<!channel>" not in review_blocks.fallback_text(c)


def _texts(obj):
    if isinstance(obj, dict):
        if obj.get("type") in ("mrkdwn", "plain_text") and "text" in obj:
            yield obj
        for v in obj.values():
            yield from _texts(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _texts(v)


def test_our_own_mentions_of_reviewers_are_real_mentions():
    d = DecisionView(status="approved", go_ahead=True, final_payload={}, patch=None, text_diff=None, reason_tags=[],
                     comment=None, reviewers=["UALICE"], decided_at=NOW, time_to_decision_seconds=42, revision=0)
    message = review_blocks.review_message(ctx(decision=d))
    assert "<@UALICE>" in all_text(message) and "42s" in all_text(message)
    assert not any(b["type"] == "actions" for b in message)


def test_large_payload_stays_within_limits_and_points_to_the_rest():
    payload = {f"field_{i:03d}_" + "k" * 150: "v" * 5000 for i in range(200)}
    message = review_blocks.review_message(ctx(payload=payload, title="T" * 500, summary="S" * 50_000))
    assert_valid_message(message)
    assert "180 more fields not shown" in all_text(message)
    header = message[0]["text"]["text"]
    assert len(header) == 150 and header.endswith("…")


def test_masked_fields_never_reach_slack():
    c = ctx(payload={"card": {"number": "4111111111111111"}, "cvv": "123", "amount": 5}, mask=("card.number", "cvv"))
    message = review_blocks.review_message(c)
    assert "4111111111111111" not in all_text(message) and '"123"' not in all_text(message)
    assert "••••••" in all_text(message)
    modal = modal_blocks.payload_modal(c)
    assert "4111111111111111" not in all_text(modal)
    modify = modal_blocks.modify_modal(c, "{}")
    assert "f:cvv" not in all_text(modify)


def test_quorum_progress_line():
    message = review_blocks.review_message(ctx(required=2, approvals=["UALICE"]))
    assert "1 of 2 approvals: <@UALICE>" in all_text(message)


@pytest.mark.parametrize("payload", [
    {"amount": 12.5, "count": 3, "ok": True, "none": None, "text": "short", "long": "x" * 200, "lines": "a\nb",
     "obj": {"a": [1, 2]}, "list": [1, "two"]},
    {f"k{i}": i for i in range(120)},  # too many fields for one input each: JSON mode
    {"huge": "x" * 5000},  # cannot be held by a text input: JSON mode, and then too large
])
def test_modals_validate(payload):
    c = ctx(payload=payload)
    meta = ModalMetadata(action_id=c.action.id, channel="C0REVIEW", revision=c.action.revision).dump()
    views = (modal_blocks.modify_modal(c, meta), modal_blocks.reject_modal(c, meta), modal_blocks.payload_modal(c))
    for view in views:
        assert_valid_modal(view)


def test_modify_modal_uses_typed_inputs():
    modal = modal_blocks.modify_modal(ctx(payload={"amount": 12.5, "count": 3, "note": "hi", "meta": {"a": 1}}), "{}")
    by_block = {b.get("block_id"): b for b in modal["blocks"]}
    assert by_block["f:amount"]["element"] == {"type": "number_input", "action_id": ids.INPUT, "is_decimal_allowed": True,
                                               "initial_value": "12.5"}
    assert by_block["f:count"]["element"]["is_decimal_allowed"] is False
    # Emptying a text box is not how a field is removed: only an empty string may stay empty.
    assert by_block["f:note"]["element"]["type"] == "plain_text_input" and by_block["f:note"]["optional"] is False
    assert json.loads(by_block["f:meta"]["element"]["initial_value"]) == {"a": 1}


def test_modal_metadata_is_typed_and_still_reads_what_older_versions_wrote():
    meta = ModalMetadata(action_id="act_1", channel="C0REVIEW", revision=2)
    assert ModalMetadata.of({"private_metadata": meta.dump()}) == meta
    # a modal opened before the upgrade is submitted after it
    assert ModalMetadata.of({"private_metadata": '{"a": "act_1", "c": "C0REVIEW", "r": 2}'}) == meta
    assert ModalMetadata.of({"private_metadata": "not json"}).action_id == ""
    assert ModalMetadata.of({"private_metadata": '{"a": ["wrong"]}'}).action_id == ""
    assert len(meta.dump()) < 3000


def test_a_decided_message_reads_plainly():
    d = DecisionView(status="modified", go_ahead=True, final_payload={"amount": 40}, patch=None, text_diff=None,
                     reason_tags=["incomplete_context"], comment=None, reviewers=["UALICE"], decided_at=NOW,
                     time_to_decision_seconds=42, revision=1)
    c = ctx(payload={"amount": 60.0}, title="Refund 60", decision=d)
    message = review_blocks.review_message(c)
    assert message[0]["text"]["text"] == "Refund 60 (as proposed; edited since)"  # the title is the agent's words
    assert review_blocks.fallback_text(c).startswith("Modified: Refund 60 (as proposed; edited since)")
    text = all_text(message)
    assert "· incomplete context" in text and "incomplete_context" not in text  # one label per tag
    assert "*Confidence*\\n50%" in text and "Review mode" not in text  # shown only for shadow reviews
    assert "`60`" in text and "60.0" not in text  # as the agent would write it
    context = next(b for b in message if b["type"] == "context" and "Routed by" in b["elements"][0]["text"])
    assert len(context["elements"]) == 1 and ".\nPolicy `p@1`" in context["elements"][0]["text"]

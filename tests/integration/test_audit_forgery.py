"""Three forgeries by someone who can write the database but holds neither the signing key nor the
checkpoint file, each caught by `hitl audit verify`'s checks; and an honest log passes them all."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select, update

from core import audit_checkpoints, audit_consistency, audit_log, deciding, intake
from core.proposal import Proposal
from core.store.tables import Action, AuditEvent, AuditHead
from tests.fakes import seal

NOW = datetime(2026, 12, 4, 10, tzinfo=UTC)


@pytest.fixture
def signed(services, agent, tmp_path):
    """Three refunds (one rejected, one approved, one pending), checkpointed; (path, public key, rejected id)."""
    ids = [intake.submit(services, agent, Proposal(action_type="refund", title=f"r{i}", payload={"amount": i + 1},
                                                   confidence=0.5))[0].id for i in range(3)]
    deciding.decide(services, ids[0], reviewer="UALICE", kind="reject", reason_tags=["wrong_action"])
    deciding.decide(services, ids[1], reviewer="UALICE", kind="approve")
    seal(services)
    private, public = audit_checkpoints.new_key()
    path = tmp_path / "checkpoints.jsonl"
    with services.db.read() as s:
        assert audit_checkpoints.write_if_new(s, path, audit_checkpoints.private_key(private), NOW) is not None
        assert audit_checkpoints.write_if_new(s, path, audit_checkpoints.private_key(private), NOW) is None  # no news
    return path, audit_checkpoints.public_key(public), ids[0]


def problems(services, path, key) -> list[str]:
    with services.db.read() as s:
        report = audit_log.verify(s)
        _, disagree = audit_consistency.check(s)
        return report.problems + disagree + audit_checkpoints.check(s, audit_checkpoints.read(path), key,
                                                                    report.last_seq)


def test_an_honest_log_passes_every_check(services, signed):
    path, key, _ = signed
    assert problems(services, path, key) == []


def test_deleting_the_last_events_and_resetting_the_head_is_caught(services, signed):
    path, key, _ = signed
    with services.db.transaction() as s:
        end = s.scalar(select(func.max(AuditEvent.seq)))
        s.execute(delete(AuditEvent).where(AuditEvent.seq > end - 2))
        kept = s.scalar(select(AuditEvent.hash).where(AuditEvent.seq == end - 2))
        s.execute(update(AuditHead).values(seq=end - 2, hash=kept))
    with services.db.read() as s:
        assert audit_log.verify(s).ok  # the chain alone cannot tell
    found = problems(services, path, key)
    assert any(f"events {end - 1}..{end} were deleted" in p for p in found), found


def test_deleting_every_event_and_the_head_is_caught(services, signed):
    path, key, _ = signed
    with services.db.transaction() as s:
        s.execute(delete(AuditEvent))
        s.execute(delete(AuditHead))
    with services.db.read() as s:
        assert audit_log.verify(s).checked == 0  # "0 events verified" was all it said
    found = problems(services, path, key)
    assert any("has no `created` event" in p for p in found)
    assert any("the log ends at event 0, but a signed checkpoint records event" in p for p in found)


def test_rewriting_a_rejection_as_an_approval_and_rehashing_is_caught(services, signed):
    path, key, rejected = signed
    with services.db.transaction() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action_id == rejected, AuditEvent.kind == "decided")).one()
        prev = event.prev_hash
        for ev in s.scalars(select(AuditEvent).where(AuditEvent.seq >= event.seq).order_by(AuditEvent.seq)).all():
            if ev.seq == event.seq:
                ev.data = {**ev.data, "status": "approved"}
            ev.prev_hash = prev
            ev.hash = prev = audit_log._digest(prev, ev.seq, ev.action_id, ev.kind, ev.data, ev.created_at)
        s.execute(update(AuditHead).values(hash=prev))
        s.execute(update(Action).where(Action.id == rejected).values(status="approved", decision="approved"))
    with services.db.read() as s:
        assert audit_log.verify(s).ok and audit_consistency.check(s)[1] == []  # consistent, and rehashed
    found = problems(services, path, key)
    assert any("is not the event checkpoint line 1 signed" in p for p in found), found


def test_editing_only_the_actions_table_is_caught(services, signed):
    path, key, rejected = signed
    with services.db.transaction() as s:
        s.execute(update(Action).where(Action.id == rejected).values(status="approved", decision="approved",
                                                                     final_payload={"amount": 1}))
    found = problems(services, path, key)
    assert found == [f"action {rejected} is approved, but its log records rejected"]


def test_a_checkpoint_signed_by_another_key_or_cut_from_the_file_is_caught(services, signed, agent, tmp_path):
    path, key, _ = signed
    lines = audit_checkpoints.read(path)
    private, public = audit_checkpoints.new_key()
    own = tmp_path / "own.jsonl"
    for i in range(3):  # three checkpoints, each after new events
        intake.submit(services, agent, Proposal(action_type="refund", title=f"late {i}", payload={}, confidence=0.5))
        seal(services)
        with services.db.read() as s:
            assert audit_checkpoints.write_if_new(s, own, audit_checkpoints.private_key(private), NOW) is not None
    mine = audit_checkpoints.public_key(public)
    assert problems(services, own, mine) == []
    assert problems(services, own, key) == [f"checkpoint line {n} (event {json_seq(line)}): the signature does not "
                                            "match the public key" for n, line in enumerate(
                                                audit_checkpoints.read(own), 1)]
    kept = audit_checkpoints.read(own)
    cut = tmp_path / "cut.jsonl"
    cut.write_text(kept[0] + "\n" + kept[2] + "\n")
    assert problems(services, cut, mine) == [f"checkpoint line 2 (event {json_seq(kept[2])}): the line before it is "
                                             "not the one it was written after (a line was removed or reordered)"]
    assert len(lines) == 1


def json_seq(line: str) -> int:
    import json

    return json.loads(line)["seq"]


def test_a_line_cut_short_by_a_crash_is_named_and_checkpoints_go_on_after_it(services, signed, agent):
    path, key, _ = signed
    private, public = audit_checkpoints.new_key()
    own = path.with_name("own.jsonl")
    own.write_text('{"seq": 3, "hash": "ab')  # the machine died mid-write
    intake.submit(services, agent, Proposal(action_type="refund", title="after", payload={}, confidence=0.5))
    with services.db.read() as s:
        assert audit_checkpoints.write_if_new(s, own, audit_checkpoints.private_key(private), NOW) is not None
    assert len(audit_checkpoints.read(own)) == 2  # its own line, after the broken one
    assert problems(services, own, audit_checkpoints.public_key(public)) == ["checkpoint line 1 is not a checkpoint"]

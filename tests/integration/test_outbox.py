"""The unit of work writes a change's effects to the outbox in the change's own transaction; the
relay hands out what is due, and a job's settling closes it. On SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from core import deciding, intake, lifecycle, outbox, reviews
from core.effects import DURABLE, Effect
from core.errors import AlreadyDecided
from core.proposal import Proposal
from core.services import Services
from tests.fakes import RecordingDispatcher

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def propose(services, agent, **extra):
    body = dict(action_type="refund", title="Refund 42", payload={"amount": 10}, confidence=0.5,
                callback_url="https://agent.example/hook") | extra
    return intake.submit(services, agent, Proposal(**body))[0]


def open_kinds(services, action_id) -> list[str]:
    return sorted(r.kind for r in outbox.unsettled(services, action_id))


def test_every_write_path_owes_its_effects_in_the_outbox(services, agent, dispatcher):
    with freeze_time(T0):
        a = propose(services, agent)
        assert open_kinds(services, a.id) == ["review_needed"]
        reviews.claim(services, a.id, "UALICE", None)
        deciding.decide(services, a.id, reviewer="UALICE", kind="modify", edited_payload={"amount": 7})
    assert open_kinds(services, a.id) == ["callback_owed", "diff_to_post", "review_changed", "review_changed",
                                      "review_needed"]
    # ...and handed the same to this process's dispatcher after each commit, with the transient ones
    assert [o.kind for o in dispatcher.owed if o.action_id == a.id] == [
        Effect.REVIEW_NEEDED, Effect.ACTION_CHANGED, Effect.REVIEW_CHANGED,
        Effect.ACTION_CHANGED, Effect.REVIEW_CHANGED, Effect.CALLBACK_OWED, Effect.DIFF_TO_POST]
    assert dispatcher.of(Effect.DIFF_TO_POST)[0].ref == "UALICE"


def test_a_rolled_back_change_owes_nothing(services, agent, dispatcher):
    a = propose(services, agent)
    deciding.decide(services, a.id, reviewer="UALICE", kind="approve")
    before = len(outbox.unsettled(services, a.id))
    dispatched = len(dispatcher.owed)
    with pytest.raises(AlreadyDecided):
        lifecycle.cancel(services, agent, a.id)
    assert len(outbox.unsettled(services, a.id)) == before and len(dispatcher.owed) == dispatched


def test_a_process_that_dies_after_its_commit_leaves_the_effects_to_the_relay(db, services, agent):
    class Killed(Exception):
        pass

    class DiesAfterCommit(RecordingDispatcher):
        def dispatch(self, owed):
            raise Killed("the process died between its commit and its enqueue")

    services.dispatcher = DiesAfterCommit()
    with freeze_time(T0):
        with pytest.raises(Killed):
            propose(services, agent)
    (row,) = outbox.unsettled(services)
    assert row.kind == "review_needed" and row.due_at == T0 + timedelta(seconds=10)  # the grace for its own enqueue
    with freeze_time(T0 + timedelta(seconds=9)):
        assert outbox.take_due(services, DURABLE, grace_seconds=10) == []  # it might still be carrying it out
    with freeze_time(T0 + timedelta(seconds=10)):
        (due,) = outbox.take_due(services, DURABLE, grace_seconds=10)
        assert (due.kind, due.action_id) == (Effect.REVIEW_NEEDED, row.action_id)
        assert outbox.take_due(services, DURABLE, grace_seconds=10) == []  # pushed back while its job runs
    with freeze_time(T0 + timedelta(seconds=10 + 20)):  # the job was lost too: it comes round again, backing off
        assert [o.outbox_id for o in outbox.take_due(services, DURABLE, grace_seconds=10)] == [row.id]
    outbox.settle(services, outbox.open_rows(services, Effect.REVIEW_NEEDED, row.action_id))
    with freeze_time(T0 + timedelta(hours=1)):
        assert outbox.take_due(services, DURABLE, grace_seconds=10) == [] and outbox.unsettled(services) == []


def test_without_a_dispatcher_every_effect_is_due_at_once(db, services, agent):
    """The CLI: no Redis, no Slack. A worker's relay carries out its decisions' effects."""
    store_only = Services(db=db, policies=services.policies)
    with freeze_time(T0):
        a = propose(services, agent)
        deciding.decide(store_only, a.id, reviewer="UALICE", kind="approve")
        due = outbox.take_due(services, DURABLE, grace_seconds=10)
    assert sorted(o.kind.value for o in due) == ["callback_owed", "review_changed"]


def test_the_relay_leaves_kinds_it_cannot_carry_out(db, services, agent):
    store_only = Services(db=db, policies=services.policies)
    a = propose(store_only, agent)
    assert outbox.take_due(services, {Effect.CALLBACK_OWED}, grace_seconds=10) == []
    assert [o.action_id for o in outbox.take_due(services, {Effect.REVIEW_NEEDED}, grace_seconds=10)] == [a.id]


def test_settled_rows_are_pruned_after_a_day(services, agent):
    with freeze_time(T0):
        a = propose(services, agent)
        outbox.settle(services, outbox.open_rows(services, Effect.REVIEW_NEEDED, a.id))
    with freeze_time(T0 + timedelta(hours=23)):
        assert outbox.prune(services, timedelta(days=1)) == 0
    with freeze_time(T0 + timedelta(days=1, seconds=1)):
        assert outbox.prune(services, timedelta(days=1)) == 1


def test_effects_nobody_carries_out_are_dropped_after_a_week(db, services, agent):
    store_only = Services(db=db, policies=services.policies)
    with freeze_time(T0):
        propose(store_only, agent)
    with freeze_time(T0 + timedelta(days=6)):
        assert outbox.abandon(services, timedelta(days=7)) == {}
    with freeze_time(T0 + timedelta(days=7, seconds=1)):
        assert outbox.abandon(services, timedelta(days=7)) == {"review_needed": 1}
    assert outbox.unsettled(services) == []

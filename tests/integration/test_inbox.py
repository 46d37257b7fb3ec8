from freezegun import freeze_time

from core import inbox, intake
from core.proposal import Proposal


def test_clicks_are_applied_once_and_lost_jobs_can_be_found(services, agent):
    proposal = Proposal(action_type="refund", title="t", payload={"amount": 1}, confidence=0.5)
    action = intake.submit(services, agent, proposal)[0]
    with freeze_time("2026-05-01T10:00:00Z") as clock:
        first = inbox.receive(services, action.id, "UALICE", "approve", reply_channel="C1")
        second = inbox.receive(services, action.id, "UBOB", "reject", ["edge_case"], reply_channel="C1")
        assert inbox.unapplied(services, older_than_seconds=30) == []
        clock.tick(31)
        assert inbox.unapplied(services, older_than_seconds=30) == [first, second]
        won = inbox.apply(services, first, groups=None)
        assert won.notice is None and won.reviewer == "UALICE"
        assert inbox.apply(services, first, groups=None) is None  # a job that runs twice does nothing the second time
        lost = inbox.apply(services, second, groups=None)
        assert lost.notice == "already approved by UALICE" and lost.reply_channel == "C1"
        assert inbox.unapplied(services, older_than_seconds=30) == []


def test_unknown_action_click_is_recorded_and_explained(services):
    click = inbox.receive(services, "act_missing", "UALICE", "approve")
    applied = inbox.apply(services, click, groups=None, explain=lambda exc: f"nope: {exc.code}")
    assert applied.notice == "nope: not_found"

import threading

import pytest
from freezegun import freeze_time

from core import deciding, intake
from core.errors import AlreadyDecided, AlreadyVoted, InvalidDecision, NotAuthorised, NotFound
from core.proposal import Proposal
from core.vocabulary import Status
from tests.fakes import StaticGroups


def submit(services, agent, amount=100, **kw):
    p = Proposal(action_type="refund", title="Refund", payload={"amount": amount, "note": "Refund in full"},
                 confidence=0.6, **kw)
    return intake.submit(services, agent, p)[0]


def test_approve_is_one_vote_with_time_to_decision(services, agent, dispatcher):
    with freeze_time("2026-03-01T10:00:00Z") as clock:
        action = submit(services, agent)
        clock.tick(42)
        result = deciding.decide(services, action.id, reviewer="UALICE", kind="approve", ratings={"accuracy": 5})
    a = result.action
    assert result.final and a.status is Status.APPROVED
    assert a.decision.reviewers == ["UALICE"] and a.decision.time_to_decision_seconds == 42
    assert a.decision.final_payload == {"amount": 100, "note": "Refund in full"} and a.decision.patch is None
    assert a.votes[0].ratings == {"accuracy": 5} and a.votes[0].time_to_decision_seconds == 42
    assert dispatcher.calls[-1] == (a.id, "approved")


def test_modify_stores_patch_and_text_diff(services, agent):
    action = submit(services, agent)
    a = deciding.decide(services, action.id, reviewer="UBOB", kind="modify", reason_tags=["edge_case"],
                        edited_payload={"amount": 80, "note": "Refund in part"}, comment="only the damaged item").action
    assert a.status is Status.MODIFIED
    assert a.decision.final_payload == {"amount": 80, "note": "Refund in part"}
    assert a.decision.patch == [{"op": "replace", "path": "/amount", "value": 80},
                                {"op": "replace", "path": "/note", "value": "Refund in part"}]
    assert a.decision.text_diff == "amount: 100 → 80\nnote:\n-Refund in full\n+Refund in part"
    assert a.decision.reason_tags == ["edge_case"] and a.decision.comment == "only the damaged item"
    assert a.payload == {"amount": 100, "note": "Refund in full"}  # the proposal itself is never overwritten


def test_modify_without_change_is_an_approval(services, agent):
    action = submit(services, agent)
    a = deciding.decide(services, action.id, reviewer="UBOB", kind="modify", edited_payload=dict(action.payload)).action
    assert a.status is Status.APPROVED and a.votes[0].kind == "approve"


def test_reject_needs_a_known_tag_and_stores_it(services, agent):
    action = submit(services, agent)
    with pytest.raises(InvalidDecision, match="needs at least one reason tag"):
        deciding.decide(services, action.id, reviewer="UALICE", kind="reject")
    with pytest.raises(InvalidDecision, match="unknown reason tag"):
        deciding.decide(services, action.id, reviewer="UALICE", kind="reject", reason_tags=["meh"])
    a = deciding.decide(services, action.id, reviewer="UALICE", kind="reject", reason_tags=["policy_violation"],
                        comment="refunds over 30 days need a manager").action
    assert a.status is Status.REJECTED and not a.decision.go_ahead
    assert a.decision.reason_tags == ["policy_violation"] and a.decision.final_payload is None


def test_quorum_of_distinct_approvers(services, agent):
    action = submit(services, agent, amount=900)
    first = deciding.decide(services, action.id, reviewer="UALICE", kind="approve")
    assert not first.final and first.action.quorum.approvals == ["UALICE"] and first.action.quorum.required == 2
    with pytest.raises(AlreadyVoted, match="UALICE already voted approve"):
        deciding.decide(services, action.id, reviewer="UALICE", kind="approve")
    second = deciding.decide(services, action.id, reviewer="UBOB", kind="approve")
    assert second.final and second.action.decision.reviewers == ["UALICE", "UBOB"]


def test_any_reject_rejects_even_after_approvals(services, agent):
    action = submit(services, agent, amount=900)
    deciding.decide(services, action.id, reviewer="UALICE", kind="approve")
    a = deciding.decide(services, action.id, reviewer="UBOB", kind="reject", reason_tags=["wrong_action"]).action
    assert a.status is Status.REJECTED and a.decision.reviewers == ["UBOB"]


def test_an_edit_resets_the_quorum_so_everyone_signs_what_runs(services, agent):
    action = submit(services, agent, amount=900)
    deciding.decide(services, action.id, reviewer="UALICE", kind="approve")
    mid = deciding.decide(services, action.id, reviewer="UBOB", kind="modify", edited_payload={"amount": 700, "note": "x"})
    assert not mid.final and mid.action.quorum.approvals == ["UBOB"] and mid.action.revision == 1
    done = deciding.decide(services, action.id, reviewer="UALICE", kind="approve")  # Alice signs the new payload
    a = done.action
    assert done.final and a.status is Status.MODIFIED and a.decision.reviewers == ["UBOB", "UALICE"]
    assert a.decision.final_payload == {"amount": 700, "note": "x"}
    assert [(v.reviewer, v.kind, v.revision) for v in a.votes] == [("UALICE", "approve", 0), ("UBOB", "modify", 1),
                                                                  ("UALICE", "approve", 1)]


def test_decision_after_the_end_says_who_decided(services, agent):
    action = submit(services, agent)
    deciding.decide(services, action.id, reviewer="UALICE", kind="approve")
    with pytest.raises(AlreadyDecided, match="already approved by UALICE"):
        deciding.decide(services, action.id, reviewer="UBOB", kind="reject", reason_tags=["edge_case"])


def test_unknown_action_and_bad_input(services, agent):
    with pytest.raises(NotFound):
        deciding.decide(services, "act_nope", reviewer="UALICE", kind="approve")
    action = submit(services, agent)
    with pytest.raises(InvalidDecision, match="not one of approve, modify, reject"):
        deciding.decide(services, action.id, reviewer="UALICE", kind="maybe")
    with pytest.raises(InvalidDecision, match="whole number from 1 to 5"):
        deciding.decide(services, action.id, reviewer="UALICE", kind="approve", ratings={"tone": 9})
    with pytest.raises(InvalidDecision, match="unknown rating"):
        deciding.decide(services, action.id, reviewer="UALICE", kind="approve", ratings={"vibes": 3})
    with pytest.raises(InvalidDecision, match="needs the edited payload"):
        deciding.decide(services, action.id, reviewer="UALICE", kind="modify", edited_payload=[1])
    assert deciding.decide(services, action.id, reviewer="UALICE", kind="approve").final  # nothing was half-recorded


def test_only_reviewers_may_decide_when_a_directory_is_given(services, agent):
    action = submit(services, agent)
    groups = StaticGroups({"S0FIN": {"UDAVE"}})
    with pytest.raises(NotAuthorised, match="UMALLORY is not a reviewer for refund"):
        deciding.decide(services, action.id, reviewer="UMALLORY", kind="approve", groups=groups)
    assert groups.lookups == ["S0FIN"]
    a = deciding.decide(services, action.id, reviewer="UDAVE", kind="approve", groups=groups).action  # via the group
    assert a.status is Status.APPROVED


def test_fifty_concurrent_conflicting_clicks_record_exactly_one_decision(services, agent, db):
    action = submit(services, agent)
    outcomes: list = []
    barrier = threading.Barrier(50)

    def click(i: int):
        kind = "approve" if i % 2 else "reject"
        barrier.wait()
        try:
            r = deciding.decide(services, action.id, reviewer=f"U{i:03d}", kind=kind,
                                reason_tags=["edge_case"] if kind == "reject" else None)
            outcomes.append(("won", r.action.status))
        except AlreadyDecided as exc:
            outcomes.append(("lost", exc.message))

    threads = [threading.Thread(target=click, args=(i,)) for i in range(50)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    winners = [o for o in outcomes if o[0] == "won"]
    assert len(outcomes) == 50 and len(winners) == 1
    final = gate_view(services, action.id)
    assert len(final.votes) == 1 and final.decision.reviewers == [final.votes[0].reviewer]
    losers = {o[1] for o in outcomes if o[0] == "lost"}
    assert losers == {f"already {final.status} by {final.votes[0].reviewer}"}


def gate_view(services, action_id):
    from core.queries import get_action

    return get_action(services, action_id)


def test_one_person_counts_once_however_their_id_is_typed(services, agent):
    a = submit(services, agent, amount=900)  # two approvals needed
    first = deciding.decide(services, a.id, reviewer=" u0r000004 ", kind="approve").action
    assert first.votes[0].reviewer == "U0R000004" and first.status is Status.PENDING
    with pytest.raises(AlreadyVoted):
        deciding.decide(services, a.id, reviewer="U0R000004", kind="approve")
    for bad in ("alice", "U0R000004; DROP", "", "S0FIN", "C0REVIEW"):
        with pytest.raises(InvalidDecision, match="not a Slack user id"):
            deciding.decide(services, a.id, reviewer=bad, kind="approve")

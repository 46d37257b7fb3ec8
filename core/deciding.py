"""Record a reviewer's decision: quorum of distinct approvers, any reject rejects, one vote each per revision."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from core import drift, edits, execution
from core.access import is_reviewer, user_id
from core.action_view import ActionView, payload_sha256
from core.diffing import json_patch, text_diff
from core.effects import Effect
from core.errors import AlreadyVoted, InvalidDecision, InvalidEdit, NotAuthorised
from core.locking import lock_or_explain
from core.ports import GroupDirectory
from core.queries import load_view
from core.seen import Seen
from core.seen import check as check_seen
from core.services import Services
from core.states import transition
from core.store.tables import Action, Vote
from core.text_checks import json_problem, text_problem
from core.unit_of_work import unit_of_work
from core.vocabulary import DecisionKind, DecisionSource, ReviewMode, Status

RATING_KEYS = ("accuracy", "completeness", "tone", "policy_compliance")
MAX_COMMENT = 3000


@dataclass(frozen=True)
class DecideResult:
    action: ActionView
    final: bool  # this vote decided the action


def validate_vote(kind: str, reason_tags: list[str], ratings: dict[str, Any] | None, allowed_tags: tuple[str, ...],
                  comment: str | None, edited_payload: Any) -> DecisionKind:
    try:
        k = DecisionKind(kind)
    except ValueError:
        raise InvalidDecision(f"decision kind {kind!r} is not one of approve, modify, reject") from None
    unknown = [t for t in reason_tags if t not in allowed_tags]
    if unknown:
        raise InvalidDecision(f"unknown reason tag(s) {', '.join(unknown)}; the policy allows {', '.join(allowed_tags)}")
    if k is DecisionKind.REJECT and not reason_tags:
        raise InvalidDecision(f"a rejection needs at least one reason tag ({', '.join(allowed_tags)})")
    for key, value in (ratings or {}).items():
        if key not in RATING_KEYS:
            raise InvalidDecision(f"unknown rating {key!r}; ratings are {', '.join(RATING_KEYS)}")
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise InvalidDecision(f"rating {key} must be a whole number from 1 to 5, got {value!r}")
    if comment is not None and len(comment) > MAX_COMMENT:
        raise InvalidDecision(f"a comment is at most {MAX_COMMENT} characters")
    if comment is not None and (problem := text_problem(comment)):
        raise InvalidDecision(f"the comment {problem}")
    if edited_payload is not None and (found := json_problem(edited_payload, as_pointer=True)):
        raise InvalidEdit([found])
    if k is DecisionKind.MODIFY and not isinstance(edited_payload, dict):
        raise InvalidDecision("modify needs the edited payload as a JSON object")
    if k is not DecisionKind.MODIFY and edited_payload is not None:
        raise InvalidDecision(f"{k.value} takes no edited payload; use modify")
    return k


def decide(services: Services, action_id: str, *, reviewer: str, kind: str, reason_tags: list[str] | None = None,
           comment: str | None = None, ratings: dict[str, int] | None = None, edited_payload: dict | None = None,
           source: str = "api", groups: GroupDirectory | None = None, with_view: bool = True,
           seen: Seen | None = None, removed_fields: list[str] | None = None,
           keep_masked: bool = False) -> DecideResult | None:
    """`groups` given: only the action's reviewers may decide. None: the caller is trusted (operator CLI).
    `seen`: the revision and payload the voter was shown (a Slack button or modal); a vote on any
    other records nothing and raises StaleView. None: the caller reads the current action itself.
    `removed_fields`: JSON Pointers a modify removes on purpose (core/edits.py). `keep_masked`: the
    voter was shown masked values, so those keep their current values whatever the edit holds.
    `with_view=False` skips re-reading the action afterwards (returns None) for callers that do not show it."""
    given = reviewer
    reviewer = user_id(given) or ""
    if not reviewer:
        raise InvalidDecision(f"{given[:40]!r} is not a Slack user id (U… or W…, e.g. U0ALICE01)")
    tags = list(dict.fromkeys(reason_tags or []))
    comment = comment.strip() or None if comment else None
    k = validate_vote(kind, tags, ratings, services.policies.current().policy.reason_tags, comment, edited_payload)
    held_decided = False  # a held check decided: the drift statistic moved
    with unit_of_work(services) as work:
        s, now = work.session, work.now
        action = lock_or_explain(s, action_id, [Status.PENDING])
        if groups is not None and not is_reviewer(action.route.get("reviewers") or {}, reviewer, groups):
            raise NotAuthorised(f"{reviewer} is not a reviewer for {action.action_type}")
        if seen is not None:
            check_seen(action, seen, list(s.scalars(select(Vote).where(Vote.action_id == action.id,
                                                                       Vote.revision >= seen.revision))))
        previous = s.scalar(select(Vote).where(Vote.action_id == action.id, Vote.revision == action.revision,
                                               Vote.reviewer == reviewer))
        if previous is not None:
            raise AlreadyVoted(f"{reviewer} already voted {previous.kind} on this action")
        if k is DecisionKind.MODIFY:
            edited_payload = edits.checked(action.current_payload, action.route or {}, edited_payload,
                                           removed_fields, keep_masked)
        if k is DecisionKind.MODIFY and edited_payload == action.current_payload:
            k = DecisionKind.APPROVE  # an edit that changes nothing is an approval
            edited_payload = None

        vote = Vote(action_id=action.id, agent_id=action.agent_id, action_type=action.action_type,
                    revision=action.revision, reviewer=reviewer, kind=k.value, reason_tags=tags,
                    comment=comment, ratings=ratings or None, source=source[:32], created_at=now,
                    time_to_decision_s=(now - action.created_at).total_seconds())
        if k is DecisionKind.MODIFY:
            assert edited_payload is not None  # validate_vote refuses a modify without an edited payload
            vote.edited_payload = edited_payload
            vote.patch = json_patch(action.current_payload, edited_payload)
            vote.text_diff = text_diff(action.current_payload, edited_payload)
            # Approvals of the old payload no longer count: everyone signs off on what will run.
            action.revision += 1
            action.current_payload = edited_payload
            vote.revision = action.revision
        s.add(vote)
        s.flush()
        work.count_vote(action, vote)
        work.log("voted", action.id, {"reviewer": reviewer, "kind": k.value, "revision": vote.revision,
                                      "reason_tags": tags, "patch": vote.patch, "source": vote.source})

        approvers = list(s.scalars(
            select(Vote.reviewer).where(Vote.action_id == action.id, Vote.revision == action.revision,
                                        Vote.kind.in_([DecisionKind.APPROVE.value, DecisionKind.MODIFY.value]))
            .order_by(Vote.created_at, Vote.id)
        ))
        final = k is DecisionKind.REJECT or len(approvers) >= action.approvals_required
        if final:
            work.log(*_finish(action, k, reviewer, approvers, now))
            if k is not DecisionKind.REJECT:
                execution.start_approval_clock(work, action)
            work.count_decided(action)
            held_decided = bool((action.route or {}).get("held_for_check"))
            if held_decided:
                entry, _ = services.policies.current().policy.for_action_type(action.action_type)
                drift.record_held(work, action, flagged=action.decision != Status.APPROVED.value,
                                  on_drift=entry.on_drift)
        # Every vote changes what reviewers see (quorum progress), not only the final one.
        work.action_changed(action)
        # The diff goes to the review's thread; in a shadow review, only once decided, or it would
        # show the agent's proposal to the next reviewer.
        if vote.text_diff and (final or action.review_mode != ReviewMode.SHADOW.value):
            work.owe(Effect.DIFF_TO_POST, action.id, reviewer)
    if held_decided:
        services.watch.forget_holds()  # the drift statistic moved: this process reads it afresh
    if not with_view:
        return None
    with services.db.read() as s:
        return DecideResult(action=load_view(s, action_id), final=final)


def _finish(action: Action, k: DecisionKind, reviewer: str, approvers: list[str], now) -> tuple[str, str, dict]:
    if k is DecisionKind.REJECT:
        status, by = Status.REJECTED, [reviewer]
    else:
        status, by = (Status.MODIFIED if action.revision > 0 else Status.APPROVED), approvers
        action.final_payload = action.current_payload
        if action.revision > 0:
            action.patch = json_patch(action.payload, action.current_payload)
            action.text_diff = text_diff(action.payload, action.current_payload)
    action.status = transition(Status(action.status), status).value
    action.decision, action.decided_at, action.decided_by = status.value, now, by
    action.decision_source = DecisionSource.HUMAN.value
    data = {"status": status.value, "by": by, "source": DecisionSource.HUMAN.value,
            "time_to_decision_s": (now - action.created_at).total_seconds()}
    if action.final_payload is not None:  # what may run, pinned in the log: `hitl audit verify` compares the action
        data["final_payload_sha256"] = payload_sha256(action.final_payload)
    return ("decided", action.id, data)

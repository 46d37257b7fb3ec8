"""Accept a proposal: authorise, route by policy, record, and answer at once when no human is needed."""
from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import escalation, execution, insert_plan, payload_schema
from core.action_view import ActionView, action_view
from core.audit_log import canonical
from core.effects import Effect
from core.errors import IdempotencyConflict, InvalidPayload, InvalidRequest, NotAuthorised
from core.insert_plan import InsertPlan
from core.policy.loader import LoadedPolicy
from core.policy.routing import route
from core.proposal import Proposal
from core.queries import load_view
from core.services import AgentIdentity, Services
from core.states import transition
from core.store.learning_tables import SpotCheck
from core.store.tables import Action, PolicyVersion
from core.vocabulary import DecisionSource, Status


def new_action_id() -> str:
    return "act_" + uuid.uuid4().hex


@dataclass
class Prepared:
    """A routed proposal, not yet stored: its rows and effects, and the answer once they are."""

    plan: InsertPlan
    view: ActionView
    request_hash: str
    idempotency_key: str | None


def submit(services: Services, agent: AgentIdentity, proposal: Proposal,
           idempotency_key: str | None = None) -> tuple[ActionView, bool]:
    """Returns (action, created). A replay of the same Idempotency-Key returns the first action and False."""
    ready = prepare(services, agent, proposal, idempotency_key)
    if isinstance(ready, ActionView):
        return ready, False
    try:
        insert_plan.persist(services, ready.plan)
    except IntegrityError as conflict:
        return _after_conflict(services, agent, ready, conflict), False
    return ready.view, True


async def submit_async(services: Services, agent: AgentIdentity, proposal: Proposal,
                       idempotency_key: str | None = None) -> tuple[ActionView, bool]:
    """The same, for an event loop: routing is pure code and the one write is awaited, with no thread
    hop (the rare reads behind it, a policy's first use or a replay, are made in line or on a thread)."""
    ready = prepare(services, agent, proposal, idempotency_key)
    if isinstance(ready, ActionView):
        return ready, False
    try:
        await insert_plan.persist_async(services, ready.plan)
    except IntegrityError as conflict:
        return await asyncio.to_thread(_after_conflict, services, agent, ready, conflict), False
    return ready.view, True


def _after_conflict(services: Services, agent: AgentIdentity, ready: Prepared, conflict: IntegrityError) -> ActionView:
    """Optimistic: a new Idempotency-Key is the common case, so the insert goes first and the unique
    constraint catches replays (including two racing requests with one key)."""
    replay = _replay(services, agent, ready.idempotency_key, ready.request_hash) if ready.idempotency_key else None
    if replay is None:
        raise conflict  # not a replay: a real constraint failed
    return replay


def prepare(services: Services, agent: AgentIdentity, proposal: Proposal,
            idempotency_key: str | None = None) -> Prepared | ActionView:
    """Authorise, validate and route; an ActionView when it is a replay found before any write."""
    if not agent.may_propose(proposal.action_type):
        raise NotAuthorised(f"this agent key may not propose action type {proposal.action_type!r}")
    now = services.clock()
    request_hash = hashlib.sha256(canonical(proposal.model_dump(mode="json")).encode()).hexdigest()
    if proposal.deadline is not None and proposal.deadline <= now:
        # A retry of an accepted proposal still replays after its deadline passed.
        replay = _replay(services, agent, idempotency_key, request_hash) if idempotency_key else None
        if replay is not None:
            return replay
        raise InvalidRequest("deadline is in the past", field="deadline")

    if proposal.callback_url is not None and (problem := services.egress.url_problem(str(proposal.callback_url))):
        raise InvalidRequest(f"callback_url {problem}", field="callback_url")
    loaded = services.policies.current()
    _record_policy_version(services, loaded, now)
    watch = services.watch
    r = route(loaded.policy, proposal, services.draw(), hold=watch.hold(services, proposal.action_type),
              tightened=watch.tightened(services, proposal.action_type))
    if r.status is Status.AUTO_APPROVED and not r.sampled:
        entry, _ = loaded.policy.for_action_type(proposal.action_type)
        if not services.watch.floor_met(services, proposal.action_type, proposal.agent_version, entry.audit_min_per_week):
            r = r.drawn_for_floor(entry.audit_min_per_week)
    if found := payload_schema.problems(r.payload_schema, proposal.payload):
        raise InvalidPayload(found)
    action = Action(
        id=new_action_id(), agent_id=agent.id, action_type=proposal.action_type, title=proposal.title,
        summary=proposal.summary, payload=proposal.payload, current_payload=proposal.payload, revision=0,
        confidence=proposal.confidence, risk=r.risk.value, context=proposal.context, run_id=proposal.run_id,
        call_id=proposal.call_id, state=proposal.state, agent_version=proposal.agent_version,
        callback_url=str(proposal.callback_url) if proposal.callback_url else None,
        deadline=proposal.deadline.astimezone(UTC) if proposal.deadline else None,
        status=Status.PROPOSED.value, review_mode=r.review_mode.value, rule=r.rule, route=r.snapshot(),
        policy_version=loaded.version, approvals_required=r.approvals_required, idempotency_key=idempotency_key,
        request_hash=request_hash, created_at=now, lock_version=0, timer_seq=0,
    )
    action.status = transition(Status.PROPOSED, r.status).value
    if r.status is Status.PENDING:
        action.timer_at = escalation.first_timer(r.escalation, now, action.deadline)
    if r.status in (Status.AUTO_APPROVED, Status.BLOCKED):
        action.decision, action.decided_at, action.decided_by = r.status.value, now, []
        action.decision_source = (DecisionSource.AUTO if r.status is Status.AUTO_APPROVED else DecisionSource.POLICY).value
        if r.status is Status.AUTO_APPROVED:
            action.final_payload = proposal.payload
            execution.set_approval_clock(action, now)  # _record schedules its timer
    plan = InsertPlan(now)
    plan.add_action(action)
    _record(plan, action, agent, request_hash, loaded.version, r)
    return Prepared(plan=plan, view=action_view(action, []), request_hash=request_hash, idempotency_key=idempotency_key)


def _record(work: InsertPlan, action: Action, agent: AgentIdentity, request_hash: str, policy_version: str, r) -> None:
    work.count_proposed(action)
    work.log("created", action.id, {"agent": agent.name, "action_type": action.action_type, "request_hash": request_hash,
                                    "policy_version": policy_version})
    work.log("routed", action.id, {"status": action.status, "review_mode": action.review_mode, "rule": r.rule,
                                   "explanation": r.explanation, "sampled": r.sampled})
    if action.decision:
        work.log("decided", action.id, {"status": action.decision, "by": "policy", "source": action.decision_source})
        work.action_changed(action, reviewed=False)  # decided on arrival: no review message to refresh
    else:
        work.owe(Effect.REVIEW_NEEDED, action.id)
    if action.timer_at is not None:
        work.timer(action.id, action.timer_seq, action.timer_at)
    if r.sampled:
        work.add(SpotCheck, {"action_id": action.id, "created_at": work.now, "action_type": action.action_type,
                                       "agent_version": action.agent_version, "probability": r.audit_p})
        work.owe(Effect.SPOT_CHECK_NEEDED, action.id)


def _replay(services: Services, agent: AgentIdentity, key: str, request_hash: str) -> ActionView | None:
    with services.db.read() as s:
        found = s.scalar(select(Action).where(Action.agent_id == agent.id, Action.idempotency_key == key))
        if found is None:
            return None
        if found.request_hash != request_hash:
            raise IdempotencyConflict(
                f"Idempotency-Key {key!r} was used for a different proposal ({found.id}); use a new key for a new proposal"
            )
        return load_view(s, found.id)


def _record_policy_version(services: Services, loaded: LoadedPolicy, now) -> None:
    """Keep the text of every policy that routed something, so an old action's rule can be read later."""
    if loaded.version in services.recorded_policy_versions:
        return
    try:
        with services.db.transaction() as s:
            if s.get(PolicyVersion, loaded.version) is None:
                s.add(PolicyVersion(version=loaded.version, source=loaded.source[:500], text=loaded.text, loaded_at=now))
    except IntegrityError:
        pass  # another process recorded it first
    services.recorded_policy_versions.add(loaded.version)

"""Route a proposal: apply the policy and say why. Pure; the caller supplies the sampling draw."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from core.policy import audit_draw, risk_classes
from core.policy.conditions import Unknown, all_of
from core.policy.model import MODE_RANK, EscalationTree, Policy, Reviewers, Rule
from core.proposal import Proposal
from core.vocabulary import ReviewMode, Risk, Status
from core.wording import percent


@dataclass(frozen=True)
class Route:
    """Everything about how one action is gated; snapshotted on the action so later policy edits don't move it."""

    status: Status  # auto_approved | pending | blocked
    review_mode: ReviewMode
    rule: str  # which entry decided, e.g. "refund.rules[0] (amount > 500)"
    explanation: str
    risk: Risk
    approvals_required: int
    reviewers: Reviewers
    channel: str | None
    escalation: EscalationTree | None
    audit_channel: str | None
    mask_fields: tuple[str, ...]
    payload_schema: dict[str, Any] | None = None
    approval_ttl: float | None = None
    masked_editable: bool = False
    link_hosts: tuple[str, ...] = ()
    sampled: bool = False  # this auto-approval was drawn for a spot check
    audit_p: float = 0.0  # the probability it was drawn with (0: not auto-approved)
    held_for_check: bool = False  # would have been auto-approved, but drawn while its type is under suspicion
    known_action_type: bool = True
    facts: dict[str, Any] = field(default_factory=dict, repr=False)

    def drawn_for_floor(self, minimum: int) -> Route:
        """Drawn because the type (and agent version) had fewer than `minimum` spot checks this week:
        every auto-approval is then, so its probability is 1."""
        before = self.explanation.split("; not drawn for a spot check", 1)[0]
        return replace(self, sampled=True, audit_p=1.0, explanation=f"{before}; drawn for a spot check (probability 1: "
                       f"fewer than {minimum} this week, so every one is)")

    def snapshot(self) -> dict[str, Any]:
        """JSON form stored on the action."""
        return {
            "review_mode": self.review_mode.value,
            "rule": self.rule,
            "explanation": self.explanation,
            "risk": self.risk.value,
            "approvals_required": self.approvals_required,
            "reviewers": self.reviewers.model_dump(mode="json"),
            "channel": self.channel,
            "audit_channel": self.audit_channel,
            "escalation": self.escalation.model_dump(mode="json") if self.escalation else None,
            "mask_fields": list(self.mask_fields),
            "masked_editable": self.masked_editable,
            "payload_schema": self.payload_schema,
            "approval_ttl": self.approval_ttl,
            "link_hosts": list(self.link_hosts),
            "sampled": self.sampled,
            "audit_p": self.audit_p,
            "held_for_check": self.held_for_check,
            "known_action_type": self.known_action_type,
        }


def facts_of(p: Proposal) -> dict[str, Any]:
    return {
        "payload": p.payload,
        "confidence": p.confidence,
        "risk": p.risk.value if p.risk else None,
        "action_type": p.action_type,
        "context": p.context,
    }


def _stricter(key: str, new: Any, old: Any) -> bool:
    """Whether setting `key` from `old` to `new` asks for more scrutiny."""
    if key == "review_mode":
        return MODE_RANK[new] > MODE_RANK[old]
    if key == "risk":
        return new.rank > old.rank
    if key == "auto_approve_threshold":
        return old is not None and (new is None or new > old)
    if key in ("approvals_required", "sample_rate", "audit_rate"):
        return new > old
    return False  # where reviews go (channel, reviewers, escalation) is neither stricter nor looser


def _take(rule: Rule, settings: dict[str, Any], stricter_only: bool) -> list[str]:
    """Apply the rule's overrides to `settings` (only the stricter ones if `stricter_only`)."""
    taken = []
    for key in rule.overrides():
        new = getattr(rule, key)
        if not stricter_only or _stricter(key, new, settings[key]):
            settings[key] = new
            taken.append(key)
    return taken


def route(policy: Policy, proposal: Proposal, sample_draw: float = 1.0, hold: str | None = None,
          tightened: bool = False) -> Route:
    """`sample_draw` is a number in [0, 1); an auto-approval is drawn for a spot check when it is below
    the draw's probability. `hold`: why the action type is back in review (a drift, core/drift.py),
    if it is; review then applies whatever the policy says, until a person clears it. `tightened`: its
    drift test has seen flags lately, so its auto-approvals are spot-checked more often."""
    entry, known = policy.for_action_type(proposal.action_type)
    base_name = proposal.action_type if known else "default"
    facts = facts_of(proposal)

    settings: dict[str, Any] = {
        "review_mode": entry.review_mode,
        "risk": entry.risk,
        "auto_approve_threshold": entry.auto_approve_threshold,
        "approvals_required": entry.approvals_required,
        "reviewers": entry.reviewers,
        "channel": entry.channel,
        "sample_rate": entry.sample_rate,
        "audit_rate": entry.audit_rate,
        "escalation": entry.escalation,
        "audit_channel": entry.audit_channel,
    }
    rule_name = f"{base_name} (no rule matched)" if entry.rules else base_name
    # Once a rule cannot be evaluated (a field missing, or of the wrong type), nobody can say which
    # rule comes first: from there on every candidate contributes only what makes review stricter.
    doubts: list[str] = []
    for i, rule in enumerate(entry.rules):
        verdict = all_of([c.evaluate(facts) for c in rule.when])
        if verdict is False:
            continue
        label = rule.name or " and ".join(c.text for c in rule.when)
        if isinstance(verdict, Unknown):
            taken = _take(rule, settings, stricter_only=True)
            doubts.append(f"rules[{i}] ({label}) cannot be evaluated: {verdict.why}"
                          + (f", so its stricter {', '.join(taken)} apply" if taken else ""))
            continue
        _take(rule, settings, stricter_only=bool(doubts))
        rule_name = f"{base_name}.rules[{i}] ({label})"
        break
    if doubts and not rule_name.startswith(f"{base_name}.rules["):
        rule_name = f"{base_name} (rules that cannot be evaluated)"
    if not known:
        rule_name = f"default (unknown action type {proposal.action_type!r})"

    mode: ReviewMode = settings["review_mode"]
    risk: Risk = settings["risk"]
    if proposal.risk is not None and proposal.risk.rank > risk.rank:
        risk = proposal.risk  # fail closed: the agent may raise the risk, never lower it
    threshold = settings["auto_approve_threshold"]
    # The policy check refuses settings below a risk class; this catches a risk the agent raised.
    floor = risk_classes.apply(policy.risk_class(risk), mode, settings["approvals_required"], threshold)
    mode, threshold = floor.review_mode, floor.auto_approve_threshold
    if hold is not None and MODE_RANK[mode] < MODE_RANK[ReviewMode.REVIEW]:
        mode = ReviewMode.REVIEW
    if hold is not None and threshold is not None:
        threshold = None
    why: str
    sampled = held = False

    if mode is ReviewMode.BLOCK:
        status, why = Status.BLOCKED, "review mode is block: this action is never allowed"
    elif mode is ReviewMode.SHADOW:
        status, why = Status.PENDING, "shadow mode: a human decides unaided; the proposal is recorded for comparison"
    elif threshold is not None and proposal.confidence >= threshold and mode is not ReviewMode.SHADOW:
        status = Status.AUTO_APPROVED
        why = (f"confidence {percent(proposal.confidence, threshold)} ≥ auto-approve threshold "
               f"{percent(threshold, proposal.confidence)}")
    elif threshold is not None and proposal.confidence < threshold:
        status = Status.PENDING
        why = (f"confidence {percent(proposal.confidence, threshold)} < auto-approve threshold "
               f"{percent(threshold, proposal.confidence)}")
    elif mode in (ReviewMode.AUTO, ReviewMode.SAMPLE):
        status, why = Status.AUTO_APPROVED, f"review mode is {mode.value}"
    else:
        status, why = Status.PENDING, "review mode is review: a human approves first"

    if doubts:
        why = "; ".join(doubts) + "; " + why
    if floor.raised:
        why = f"risk {risk.value} requires {', '.join(floor.raised)} (risk_classes); " + why
    if hold is not None:
        why = f"back to review: {hold}; " + why

    audit_p = 0.0
    if status is Status.AUTO_APPROVED:
        # Every auto-approval may be spot-checked, whatever the mode: autonomy stays watched.
        base = max(settings["audit_rate"], settings["sample_rate"] if mode is ReviewMode.SAMPLE else 0.0)
        draw = audit_draw.probability(base, confidence=proposal.confidence, threshold=threshold, risk=risk,
                                      tightened=tightened)
        audit_p = draw.probability
        sampled = sample_draw < audit_p
        raised = f": {', '.join(draw.why)}" if draw.why else ""
        if sampled and tightened and entry.on_suspicion == "hold":
            # Under suspicion, a drawn one waits for a person before it runs instead of being looked
            # at after: the look both stops the error and feeds the drift test (core/drift.py).
            status, mode, sampled, held = Status.PENDING, ReviewMode.REVIEW, False, True
            why += (f"; held for a review before it runs (probability {audit_p:g}{raised}: its recent spot "
                    "checks were flagged)")
        else:
            why += (f"; drawn for a spot check (probability {audit_p:g}{raised})" if sampled
                    else f"; not drawn for a spot check (probability {audit_p:g}{raised})")

    return Route(
        status=status,
        review_mode=mode,
        rule=rule_name,
        explanation=why,
        risk=risk,
        approvals_required=floor.approvals_required,
        reviewers=settings["reviewers"],
        channel=settings["channel"],
        escalation=settings["escalation"],
        audit_channel=settings["audit_channel"],
        mask_fields=entry.mask_fields,
        payload_schema=entry.payload_schema,
        approval_ttl=entry.approval_ttl,
        masked_editable=entry.masked_editable,
        link_hosts=policy.link_hosts,
        sampled=sampled,
        audit_p=audit_p,
        held_for_check=held,
        known_action_type=known,
        facts=facts,
    )

"""Human-readable summaries for `hitl policy check`: what the policy does, and why a sample routes where it does."""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from core.errors import InvalidRequest
from core.policy.conditions import Unknown, all_of
from core.policy.loader import LoadedPolicy
from core.policy.model import ActionTypePolicy
from core.policy.routing import facts_of, route
from core.proposal import Proposal
from core.vocabulary import ReviewMode


def _summary(name: str, e: ActionTypePolicy) -> list[str]:
    mode = e.review_mode.value + (f" (sample rate {e.sample_rate:g})" if e.review_mode is ReviewMode.SAMPLE else "")
    parts = [f"{name}: risk {e.risk.value}, {mode}"]
    if e.auto_approve_threshold is not None:
        parts.append(f"auto-approve at confidence ≥ {e.auto_approve_threshold:g}")
    parts.append(f"{e.approvals_required} approval{'s' if e.approvals_required > 1 else ''}")
    lines = [", ".join(parts)]
    who = [*e.reviewers.users, *e.reviewers.groups]
    reviewers = ", ".join(who) if who else "anyone who sees the review"
    lines.append(f"    reviewers: {reviewers}; channel: {e.channel or 'default'}")
    if e.escalation:
        levels = " → ".join(f"{'/'.join(lv.targets)} after {lv.timeout:g}s" for lv in e.escalation.levels)
        lines.append(f"    escalation: {levels}; repeat {e.escalation.repeat}×, then {e.escalation.final_action.value}")
    if e.mask_fields:
        lines.append(f"    masked: {', '.join(e.mask_fields)}")
    for i, rule in enumerate(e.rules):
        label = rule.name or " and ".join(c.text for c in rule.when)
        changes = rule.model_dump(include=set(rule.overrides()), mode="json")
        lines.append(f"    rules[{i}] {label}: " + ", ".join(f"{k}={v}" for k, v in changes.items()))
    return lines


def warnings(loaded: LoadedPolicy) -> list[str]:
    out = []
    p = loaded.policy
    for name, e in [("default", p.default), *p.action_types.items()]:
        if not e.reviewers and e.review_mode not in (ReviewMode.AUTO, ReviewMode.BLOCK):
            out.append(f"warning: {name} names no reviewers, so anyone who can see its reviews may decide")
        if e.review_mode is ReviewMode.SAMPLE and e.sample_rate == 0:
            out.append(f"warning: {name} is in sample mode with sample_rate 0: nothing will be audited")
    if not p.managers:
        out.append("warning: no managers: anyone in the workspace can read /hitl-stats for every action type, "
                   "with reviewers' names and flags")
    return out


def describe(loaded: LoadedPolicy) -> str:
    p = loaded.policy
    lines = [f"{loaded.source}: valid, version {loaded.version}", f"reason tags: {', '.join(p.reason_tags)}"]
    lines += _summary("default (unknown action types)", p.default)
    for name, e in p.action_types.items():
        lines += _summary(name, e)
    lines += warnings(loaded)
    return "\n".join(lines)


def _answer(result: bool | Unknown) -> str:
    return result.why if isinstance(result, Unknown) else "yes" if result else "no"


def explain_sample(loaded: LoadedPolicy, raw: dict[str, Any]) -> str:
    sample = dict(raw)
    sample.setdefault("title", "sample")
    sample.setdefault("payload", {})
    sample.setdefault("confidence", 0.5)
    try:
        proposal = Proposal.model_validate(sample)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidRequest(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    entry, known = loaded.policy.for_action_type(proposal.action_type)
    facts = facts_of(proposal)
    lines = [f"sample {proposal.action_type!r} (confidence {proposal.confidence:g}):"]
    if not known:
        lines.append("  not named in the policy: the default applies")
    for i, rule in enumerate(entry.rules):
        results = [(c.text, c.evaluate(facts)) for c in rule.when]
        verdict = all_of([r for _, r in results])
        said = "matches" if verdict is True else "no match" if verdict is False else "cannot tell"
        lines.append(f"  rules[{i}]: {said} (" + "; ".join(f"{t}: {_answer(r)}" for t, r in results) + ")")
    r = route(loaded.policy, proposal, sample_draw=0.0)
    lines.append(f"  → {r.status.value} by {r.rule}: {r.explanation}")
    lines.append(f"    risk {r.risk.value}, {r.approvals_required} approval(s), channel {r.channel or 'default'}")
    return "\n".join(lines)

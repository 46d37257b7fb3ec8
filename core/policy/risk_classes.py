"""Risk is enforced, not only a label: every action type and rule must give each risk at least the
scrutiny its risk class (`risk_classes` in the policy) asks for, and routing lifts a proposal whose
agent raised its risk to that floor."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.policy.model import MODE_RANK, ActionTypePolicy, Policy, RiskClass
from core.vocabulary import ReviewMode, Risk


@dataclass(frozen=True)
class Floor:
    """What a risk class did to one route."""

    review_mode: ReviewMode
    approvals_required: int
    auto_approve_threshold: float | None
    raised: tuple[str, ...]  # the settings it raised, for the routing explanation


def apply(cls: RiskClass, mode: ReviewMode, approvals: int, threshold: float | None) -> Floor:
    raised = []
    if MODE_RANK[mode] < MODE_RANK[cls.min_review_mode]:
        mode = cls.min_review_mode
        raised.append(f"review_mode {mode.value}")
    if approvals < cls.min_approvals:
        approvals = cls.min_approvals
        raised.append(f"{approvals} approvals")
    if threshold is not None and not cls.auto_approve:
        threshold = None
        raised.append("no auto-approval")
    return Floor(mode, approvals, threshold, tuple(raised))


Combo = tuple[tuple[Any, ...], Risk, ReviewMode, int, float | None, set[str]]  # where, and what it makes


def violations(policy: Policy) -> list[tuple[tuple[Any, ...], str]]:
    """(location in the file, what is wrong) for every action type, the default and every rule's
    effective combination that gives a risk less scrutiny than its class."""
    found: list[tuple[tuple[Any, ...], str]] = []
    entries: list[tuple[tuple[Any, ...], ActionTypePolicy]] = [(("default",), policy.default)]
    entries += [(("action_types", name), entry) for name, entry in policy.action_types.items()]
    for where, entry in entries:
        combos: list[Combo] = [(where, entry.risk, entry.review_mode, entry.approvals_required,
                                entry.auto_approve_threshold, set())]
        for i, rule in enumerate(entry.rules):
            written = rule.model_fields_set

            def pick(key: str, base: Any, rule=rule, written=written) -> Any:
                return getattr(rule, key) if key in written else base

            combos.append((where + ("rules", i), pick("risk", entry.risk), pick("review_mode", entry.review_mode),
                           pick("approvals_required", entry.approvals_required),
                           pick("auto_approve_threshold", entry.auto_approve_threshold), written))
        for loc, risk, mode, approvals, threshold, written in combos:
            problems = _check(policy, loc, risk, mode, approvals, threshold, written)
            if "risk" not in entry.model_fields_set and not (written and "risk" in written):
                problems = [(at, f"{msg}; an action type without `risk` is high risk") for at, msg in problems]
            found += problems
    return found


def _check(policy: Policy, loc: tuple[Any, ...], risk: Risk, mode: ReviewMode, approvals: int,
           threshold: float | None, written: set[str]) -> list[tuple[tuple[Any, ...], str]]:
    if mode is ReviewMode.BLOCK:
        return []  # never allowed: nothing is looser than that
    cls = policy.risk_class(risk)
    why = f"risk {risk.value} requires"
    out = []

    def at(key: str) -> tuple[Any, ...]:
        # A rule's combination is reported where the rule sets it, or at the rule itself.
        return loc + (key,) if not written or key in written else loc

    if MODE_RANK[mode] < MODE_RANK[cls.min_review_mode]:
        out.append((at("review_mode"), f"review_mode {mode.value} is looser than {why} "
                                        f"(risk_classes.{risk.value}.min_review_mode: {cls.min_review_mode.value})"))
    if approvals < cls.min_approvals:
        out.append((at("approvals_required"), f"approvals_required {approvals} is fewer than {why} "
                                               f"(risk_classes.{risk.value}.min_approvals: {cls.min_approvals})"))
    if threshold is not None and not cls.auto_approve:
        out.append((at("auto_approve_threshold"), f"auto_approve_threshold {threshold:g} would auto-approve what {why} "
                                                   f"a human to see (risk_classes.{risk.value}.auto_approve: false)"))
    return out

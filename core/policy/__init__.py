"""Policy: which proposals need a human, who, and what happens when nobody answers."""
from core.policy.loader import load_policy, load_policy_text
from core.policy.model import ActionTypePolicy, EscalationLevel, EscalationTree, Policy, Reviewers, Rule
from core.policy.routing import Route, route

__all__ = [
    "ActionTypePolicy", "EscalationLevel", "EscalationTree", "Policy", "Reviewers", "Route", "Rule",
    "load_policy", "load_policy_text", "route",
]

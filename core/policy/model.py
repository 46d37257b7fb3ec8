"""The policy file's schema. Validation messages here end up in front of operators, so they name the problem."""
from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from core import masking, payload_schema
from core.policy.conditions import Condition
from core.proposal import ACTION_TYPE_PATTERN
from core.vocabulary import DEFAULT_REASON_TAGS, FinalAction, ReviewMode, Risk

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(v: Any) -> float:
    """'90s', '15m', '2h', '1d' or a number of seconds."""
    if isinstance(v, bool):
        raise ValueError("a duration is like 30s, 15m, 2h or 1d")
    if isinstance(v, (int, float)):
        seconds = float(v)
    elif isinstance(v, str) and (m := _DURATION.match(v)):
        seconds = float(m[1]) * _UNITS[m[2]]
    else:
        raise ValueError(f"{v!r} is not a duration: use 30s, 15m, 2h or 1d")
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _classify_target(t: str) -> str:
    # Slack ids: U/W users, S user groups, C/G channels. Anything else is a typo waiting to page nobody.
    if re.fullmatch(r"[UW][A-Z0-9]{2,}", t):
        return "user"
    if re.fullmatch(r"S[A-Z0-9]{2,}", t):
        return "group"
    if re.fullmatch(r"[CG][A-Z0-9]{2,}", t):
        return "channel"
    raise ValueError(f"{t!r} is not a Slack user (U…/W…), user group (S…) or channel (C…/G…) id")


class Reviewers(_Strict):
    """Who may decide: Slack user ids and user-group ids (members resolved at decision time)."""

    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, v: Any) -> Any:
        # `reviewers: [U123, S456]` is the short form; ids are sorted by kind.
        if isinstance(v, list):
            users: list[str] = []
            groups: list[str] = []
            for t in v:
                if not isinstance(t, str):
                    raise ValueError(f"reviewer ids are strings, got {t!r}")
                kind = _classify_target(t)
                if kind == "channel":
                    raise ValueError(f"{t!r} is a channel; reviewers are users (U…) or user groups (S…)")
                (users if kind == "user" else groups).append(t)
            return {"users": users, "groups": groups}
        return v

    @field_validator("users")
    @classmethod
    def _users(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for t in v:
            if _classify_target(t) != "user":
                raise ValueError(f"{t!r} is not a Slack user id (U… or W…)")
        return v

    @field_validator("groups")
    @classmethod
    def _groups(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for t in v:
            if _classify_target(t) != "group":
                raise ValueError(f"{t!r} is not a Slack user-group id (S…)")
        return v

    def __bool__(self) -> bool:
        return bool(self.users or self.groups)


class EscalationLevel(_Strict):
    targets: tuple[str, ...] = Field(min_length=1)
    timeout: Duration

    @field_validator("targets")
    @classmethod
    def _targets(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for t in v:
            _classify_target(t)
        return v


class EscalationTree(_Strict):
    """PagerDuty-style: levels in order, the whole tree repeated `repeat` more times, then `final_action`."""

    levels: tuple[EscalationLevel, ...] = Field(min_length=1)
    repeat: int = Field(default=0, ge=0, le=10)
    ack_timeout: Duration = Field(default=1800.0, description="After a Claim, how long before escalation restarts.")
    final_action: FinalAction = FinalAction.EXPIRE


class Rule(_Strict):
    """When every condition holds, these settings replace the action type's. The first matching rule wins."""

    name: str | None = None
    when: tuple[Condition, ...] = Field(min_length=1)
    review_mode: ReviewMode | None = None
    risk: Risk | None = None
    auto_approve_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    approvals_required: int | None = Field(default=None, ge=1, le=10)
    reviewers: Reviewers | None = None
    channel: str | None = None
    sample_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    audit_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    audit_channel: str | None = None
    escalation: EscalationTree | None = None

    # Fields a rule may set to null on purpose: no auto-approval, no escalation, the default channel.
    NULLABLE: ClassVar[tuple[str, ...]] = ("auto_approve_threshold", "escalation", "channel", "audit_channel")

    @model_validator(mode="after")
    def _null_only_where_meaningful(self) -> Rule:
        for key in self.model_fields_set - {"name", "when"}:
            if getattr(self, key) is None and key not in self.NULLABLE:
                raise ValueError(f"{key} cannot be null in a rule; leave it out to keep the action type's setting")
        if not self.model_fields_set - {"name", "when"}:
            raise ValueError("a rule must change something (review_mode, approvals_required, reviewers, …)")
        return self

    def overrides(self) -> list[str]:
        """The settings this rule replaces: exactly the fields written in the file, null included."""
        return sorted(self.model_fields_set - {"name", "when"})

    @field_validator("when", mode="before")
    @classmethod
    def _parse_when(cls, v: Any) -> Any:
        items = [v] if isinstance(v, str) else v
        if not isinstance(items, list):
            raise ValueError("`when` is a condition like 'amount > 500' or a list of them")
        return tuple(Condition.parse(x) for x in items)


class ActionTypePolicy(_Strict):
    risk: Risk = Risk.HIGH
    review_mode: ReviewMode = ReviewMode.REVIEW
    auto_approve_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    sample_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    audit_rate: float = Field(default=0.05, ge=0.0, le=1.0,
                              description="Share of auto-approvals (any mode, by threshold or not) checked afterwards.")
    audit_min_per_week: int = Field(default=5, ge=0, le=1000, description="Until this many of the type's auto-approvals "
                                    "(per agent version) were drawn in the last 7 days, every one is.")
    on_drift: Literal["alert", "review"] = Field(default="alert", description="review: drift returns the type to review.")
    on_suspicion: Literal["hold", "check"] = Field(default="hold", description="While recent spot checks were flagged, "
                                                   "hold: a drawn auto-approval waits for a review before it runs; "
                                                   "check: it runs, and is spot-checked after.")
    cost_error: float | None = Field(default=None, gt=0, description="What one wrong action that runs costs "
                                     "(any unit): `hitl recommend` then picks the cheapest threshold.")
    cost_review: float | None = Field(default=None, gt=0, description="What one human review costs, in the same unit.")
    gold_rate: float = Field(default=0.0, ge=0.0, le=0.5, description="With each review posted, the chance of also "
                             "posting a gold item: a past decision of the type, shown again to measure accuracy.")
    approvals_required: int = Field(default=1, ge=1, le=10)
    reviewers: Reviewers = Reviewers()
    channel: str | None = None
    audit_channel: str | None = Field(default=None, description="Where sampled auto-approvals are audited; else channel.")
    digest_channel: str | None = Field(default=None, description="Where the weekly digest of this type goes.")
    escalation: EscalationTree | None = None
    mask_fields: tuple[str, ...] = Field(default=(), description="JSON Pointers (/customer/ssn) never sent to Slack.")
    masked_editable: bool = Field(default=False, description="The browser editor may change masked fields.")
    payload_schema: dict[str, Any] | None = Field(default=None, description="JSON Schema every payload and edit must meet.")
    approval_ttl: Duration | None = Field(default=None, description="An approval not claimed within it expires.")
    tools: tuple[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:/-]{1,128}$")], ...] = Field(
        default=(), description="Tool names (MCP or a framework's) whose calls are this action type; hitl-mcp reads them.")
    rules: tuple[Rule, ...] = ()

    @field_validator("mask_fields")
    @classmethod
    def _pointers(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for p in v:
            masking.parse(p)  # its ValueError names the fix
        return v

    @field_validator("payload_schema")
    @classmethod
    def _schema(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is not None:
            payload_schema.check(v)
        return v

    @field_validator("channel", "audit_channel", "digest_channel")
    @classmethod
    def _channel(cls, v: str | None) -> str | None:
        if v is not None and _classify_target(v) != "channel":
            raise ValueError(f"{v!r} is not a Slack channel id (C… or G…)")
        return v

    @model_validator(mode="after")
    def _approve_on_silence_only_at_low_risk(self) -> ActionTypePolicy:
        # An unanswered high-risk action must never go ahead by itself. Checked for the type's own
        # settings and for every rule's effective combination (a rule may change either half).
        combos = [("", self.risk, self.escalation)]
        for i, rule in enumerate(self.rules):
            fields = rule.model_fields_set
            combos.append((f"rules[{i}]: ", rule.risk if rule.risk is not None else self.risk,  # never null: see Rule
                           rule.escalation if "escalation" in fields else self.escalation))
        for where, risk, tree in combos:
            if tree is not None and tree.final_action is FinalAction.APPROVE and risk.rank >= Risk.HIGH.rank:
                raise ValueError(f"{where}escalation.final_action approve is allowed only for low or medium risk, "
                                 f"not {risk.value}: unanswered {risk.value}-risk actions must expire or be rejected")
        return self


class DefaultPolicy(ActionTypePolicy):
    """Applies to action types the policy does not name. It must fail closed."""

    @field_validator("review_mode")
    @classmethod
    def _fail_closed(cls, v: ReviewMode) -> ReviewMode:
        if v not in (ReviewMode.REVIEW, ReviewMode.BLOCK):
            raise ValueError("the default for unknown action types must fail closed: review or block")
        return v

    @field_validator("auto_approve_threshold")
    @classmethod
    def _no_threshold(cls, v: float | None) -> float | None:
        if v is not None:
            raise ValueError("the default for unknown action types cannot auto-approve; set thresholds per action type")
        return v


MODE_RANK = {ReviewMode.AUTO: 0, ReviewMode.SAMPLE: 1, ReviewMode.REVIEW: 2, ReviewMode.SHADOW: 2, ReviewMode.BLOCK: 3}


class RiskClass(_Strict):
    """The least scrutiny an action of one risk gets, whatever its action type or rules say."""

    min_review_mode: ReviewMode = Field(default=ReviewMode.AUTO,
                                        description="auto, sample or review: a looser mode is refused.")
    min_approvals: int = Field(default=1, ge=1, le=10)
    auto_approve: bool = Field(default=True, description="false: no auto_approve_threshold may let it through.")

    @field_validator("min_review_mode")
    @classmethod
    def _a_floor(cls, v: ReviewMode) -> ReviewMode:
        if v in (ReviewMode.BLOCK, ReviewMode.SHADOW):
            raise ValueError("min_review_mode is auto, sample or review (block and shadow are modes, not floors)")
        return v


DEFAULT_RISK_CLASSES: dict[Risk, RiskClass] = {
    Risk.CRITICAL: RiskClass(min_review_mode=ReviewMode.REVIEW, min_approvals=2, auto_approve=False),
    Risk.HIGH: RiskClass(min_review_mode=ReviewMode.REVIEW),
}


class Policy(_Strict):
    version: str | None = Field(default=None, description="Free-form label; the content hash is recorded either way.")
    reason_tags: tuple[str, ...] = DEFAULT_REASON_TAGS
    link_hosts: tuple[str, ...] = Field(default=(), description="Hosts whose links in an agent's context are live.")
    default: DefaultPolicy = DefaultPolicy()
    # Entries written in the file replace the default for their risk; the others keep theirs.
    risk_classes: dict[Risk, RiskClass] = Field(default_factory=dict)
    alerts_channel: str | None = Field(default=None, description="Where drift alerts go (C… or G…).")
    digest_channel: str | None = Field(default=None, description="Where the weekly digest of every type goes.")
    managers: Reviewers = Field(default=Reviewers(), description="Who may read /hitl-stats for every action type, "
                                "with reviewers' names; others read only the types they review. Empty: everyone.")
    action_types: dict[Annotated[str, Field(pattern=ACTION_TYPE_PATTERN)], ActionTypePolicy] = {}

    @field_validator("reason_tags")
    @classmethod
    def _tags(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("at least one reason tag is needed")
        for t in v:
            if not re.fullmatch(r"[a-z0-9][a-z0-9_]{0,74}", t):
                raise ValueError(f"reason tag {t!r} must be lower_snake_case, at most 75 characters")
        if len(set(v)) != len(v):
            raise ValueError("reason tags must be unique")
        if len(v) > 100:
            raise ValueError("at most 100 reason tags (a Slack select holds 100 options)")
        return v

    @field_validator("link_hosts")
    @classmethod
    def _hosts(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for h in v:
            if not re.fullmatch(r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+", h):
                raise ValueError(f"{h!r} is not a lower-case host name such as docs.example.com")
        return tuple(v)

    @field_validator("alerts_channel", "digest_channel")
    @classmethod
    def _alerts_channel(cls, v: str | None) -> str | None:
        if v is not None and _classify_target(v) != "channel":
            raise ValueError(f"{v!r} is not a Slack channel id (C… or G…)")
        return v

    @model_validator(mode="after")
    def _one_type_per_tool(self) -> Policy:
        named: dict[str, str] = {}
        for action_type, entry in self.action_types.items():
            for tool in entry.tools:
                if tool in named:
                    raise ValueError(f"tool {tool!r} is listed by both {named[tool]} and {action_type}: "
                                     "a tool's calls are one action type")
                named[tool] = action_type
        return self

    def tool_action_types(self) -> dict[str, str]:
        """Tool name -> the action type its calls are proposed as (the entries' `tools:`)."""
        return {tool: action_type for action_type, entry in self.action_types.items() for tool in entry.tools}

    def risk_class(self, risk: Risk) -> RiskClass:
        return self.risk_classes.get(risk) or DEFAULT_RISK_CLASSES.get(risk) or RiskClass()

    def for_action_type(self, action_type: str) -> tuple[ActionTypePolicy, bool]:
        """The action type's entry, or the fail-closed default (second value False)."""
        entry = self.action_types.get(action_type)
        return (entry, True) if entry is not None else (self.default, False)

from pathlib import Path

import pytest

from core.errors import PolicyError
from core.policy import load_policy, load_policy_text
from core.vocabulary import DEFAULT_REASON_TAGS, ReviewMode

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "policy.yaml"


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as exc:
        load_policy_text(text, "p.yaml")
    return exc.value.problems


def test_example_policy_is_valid():
    loaded = load_policy(EXAMPLE)
    assert loaded.version.startswith("example-1@")
    assert loaded.policy.action_types["refund"].rules[0].approvals_required == 2


def test_empty_policy_is_fail_closed_with_default_tags():
    loaded = load_policy_text("", "empty.yaml")
    assert loaded.policy.reason_tags == DEFAULT_REASON_TAGS
    assert loaded.policy.default.review_mode is ReviewMode.REVIEW


def test_version_changes_with_content():
    a = load_policy_text("version: x\n").version
    b = load_policy_text("version: x\nreason_tags: [a]\n").version
    assert a.startswith("x@") and b.startswith("x@") and a != b


def test_errors_name_file_line_and_field():
    text = """action_types:
  refund:
    review_mode: manual
    reviewrs: [U1]
    reviewers: [C123]
    escalation:
      levels:
        - targets: [U12]
          timeout: 5x
    rules:
      - when: "amount >> 5"
        approvals_required: 2
"""
    assert problems(text) == [
        "p.yaml:3: action_types.refund.review_mode: "
        "Input should be 'auto', 'sample', 'review', 'block' or 'shadow' (got 'manual')",
        "p.yaml:5: action_types.refund.reviewers: 'C123' is a channel; reviewers are users (U…) or user groups (S…)",
        "p.yaml:9: action_types.refund.escalation.levels[0].timeout: '5x' is not a duration: use 30s, 15m, 2h or 1d",
        "p.yaml:11: action_types.refund.rules[0].when: cannot read condition 'amount >> 5': expected '<field> <op> <value>' "
        "with op one of ==, !=, >=, <=, >, <, not in, in, contains, exists, missing",
        "p.yaml:4: action_types.refund.reviewrs: unknown field 'reviewrs' (check its spelling against docs/policy.md)",
    ]


def test_duplicate_keys_are_reported_not_silently_overwritten():
    assert problems("action_types:\n  a: {}\n  a: {}\n") == ["p.yaml:3: action_types.a: duplicate key (first on line 2)"]


def test_yaml_syntax_error_has_a_line():
    (p,) = problems("action_types:\n  a: [\n")
    assert p.startswith("p.yaml:3: not valid YAML")


def test_default_must_fail_closed():
    (p,) = problems("default:\n  review_mode: auto\n")
    assert p == "p.yaml:2: default.review_mode: the default for unknown action types must fail closed: review or block"


@pytest.mark.parametrize("text,fragment", [
    ("reason_tags: [Bad Tag]\n", "must be lower_snake_case"),
    ("reason_tags: [a, a]\n", "must be unique"),
    ("action_types:\n  x:\n    approvals_required: 0\n", "greater than or equal to 1"),
    ("action_types:\n  x:\n    channel: U123\n", "not a Slack channel id"),
    ("action_types:\n  x:\n    rules:\n      - when: a > 1\n", "a rule must change something"),
    ("action_types:\n  x:\n    rules:\n      - when: a > 1\n        review_mode: null\n", "cannot be null in a rule"),
    ("action_types:\n  'bad name':\n    risk: low\n", "action type name 'bad name'"),
    ("action_types:\n  x:\n    escalation:\n      levels: []\n", "at least 1 item"),
    ("- 1\n- 2\n", "must be a mapping"),
    ("action_types:\n  x:\n    mask_fields: [customer.ssn]\n", "write '/customer/ssn'"),
    ("action_types:\n  x:\n    mask_fields: ['/a~b']\n", "'~' must be written '~0'"),
    ("action_types:\n  x:\n    payload_schema: {type: objekt}\n", "payload_schema at /type is not valid JSON Schema"),
    ("action_types:\n  x:\n    approval_ttl: soon\n", "is not a duration"),
    ("link_hosts: [https://docs.example.com]\n", "is not a lower-case host name"),
])
def test_invalid_fields(text, fragment):
    found = problems(text)
    assert any(fragment in p for p in found), found


def test_missing_file():
    with pytest.raises(PolicyError, match="file not found"):
        load_policy("/nonexistent/policy.yaml")


def test_reviewer_short_form_sorts_users_and_groups():
    loaded = load_policy_text("action_types:\n  x:\n    reviewers: [U1AB, S2CD, W3EF]\n")
    r = loaded.policy.action_types["x"].reviewers
    assert r.users == ("U1AB", "W3EF") and r.groups == ("S2CD",)


def test_masks_schemas_ttls_and_link_hosts_load():
    loaded = load_policy_text("link_hosts: [docs.example.com]\naction_types:\n  x:\n    mask_fields: [/a.b, /c/0]\n"
                              "    approval_ttl: 15m\n    payload_schema: {type: object, required: [a.b]}\n", "p.yaml")
    x = loaded.policy.action_types["x"]
    assert x.mask_fields == ("/a.b", "/c/0") and x.approval_ttl == 900.0 and x.payload_schema["required"] == ["a.b"]
    assert loaded.policy.link_hosts == ("docs.example.com",)


def test_the_readmes_policy_sketch_is_a_valid_policy():
    readme = (EXAMPLE.parents[1] / "README.md").read_text()
    sketch = readme[readme.index("## Policy reference"):].split("```yaml", 1)[1].split("```", 1)[0]
    loaded = load_policy_text(sketch, "README.md")
    assert loaded.version.startswith("prod-7@") and loaded.policy.alerts_channel == "C0ALERTS1"


def test_a_tool_belongs_to_one_action_type():
    loaded = load_policy_text("action_types:\n  refund:\n    tools: [issue_refund, refund_order]\n"
                              "  crm:\n    tools: [update_record]\n", "p.yaml")
    assert loaded.policy.tool_action_types() == {"issue_refund": "refund", "refund_order": "refund",
                                                 "update_record": "crm"}
    with pytest.raises(PolicyError) as exc:
        load_policy_text("action_types:\n  refund:\n    tools: [issue_refund]\n  crm:\n    tools: [issue_refund]\n",
                         "p.yaml")
    assert "p.yaml" in str(exc.value) and "'issue_refund' is listed by both refund and crm" in str(exc.value)
    with pytest.raises(PolicyError) as exc:
        load_policy_text("action_types:\n  refund:\n    tools: ['issue refund']\n", "p.yaml")
    assert "p.yaml:3" in str(exc.value) and "tools" in str(exc.value)

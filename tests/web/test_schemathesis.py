"""Property-based run against /openapi.json over real HTTP: nothing a client sends yields a 500
or a response outside the declared schema."""
from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

# Examples per operation: make test uses 40; make test-fast asks for fewer (HITL_FUZZ_EXAMPLES=10).
EXAMPLES = int(os.environ.get("HITL_FUZZ_EXAMPLES", "40"))
EXPECTED = {"POST /v1/actions", "GET /v1/actions/{action_id}", "GET /v1/actions/{action_id}/decision",
            "POST /v1/actions/{action_id}/outcome", "POST /v1/actions/{action_id}/cancel",
            "POST /v1/actions/{action_id}/execute", "GET /healthz"}


def test_api_never_errors_and_matches_its_schema(live):
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    auth = {"Authorization": f"Bearer {live.key}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} >= EXPECTED
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            if isinstance(case.query, dict) and _number(case.query.get("wait")):
                case.query["wait"] = min(float(case.query["wait"]), 0.05)  # keep long-polls short
            response = case.call(headers=auth)
            excluded = []
            if _past_deadline(response):
                # Schema-valid but in the past: 422 naming `deadline` is the documented answer, and no
                # JSON Schema can say "in the future", so only this check is relaxed, only here.
                excluded = [checks.positive_data_acceptance]
            case.validate_response(response, headers=auth, excluded_checks=excluded)

        run()


def _past_deadline(response) -> bool:
    if response.status_code != 422:
        return False
    fields = response.json().get("fields", [])
    return [f["field"] for f in fields] == ["deadline"] and fields[0]["message"] == "deadline is in the past"


def _number(v) -> bool:
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False

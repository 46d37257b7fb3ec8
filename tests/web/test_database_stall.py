"""A web process whose database stalls answers quickly, and only what needs the stalled rows fails."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"db_lock_timeout_seconds": 1.0})


def test_a_write_stuck_behind_a_lock_gets_a_503_and_health_still_answers(api, settings):
    body = {"action_type": "refund", "title": "Refund 42", "confidence": 0.5, "payload": {"amount": 1}}
    assert api.post("/v1/actions", json=body).status_code == 201  # this hour's rollup rows exist now
    engine = create_engine(settings.database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as other:
            other.execute(text("BEGIN"))
            other.execute(text("SELECT 1 FROM stat_rollups FOR UPDATE"))  # every proposal adds to its hour's tally
            stuck = api.post("/v1/actions", json=body, headers={"Idempotency-Key": "stall-1"})
            assert stuck.status_code == 503 and stuck.json()["error"] == "unavailable", stuck.text
            assert stuck.headers["retry-after"] == "5"
            assert api.get("/healthz").status_code == 200
            other.execute(text("ROLLBACK"))
        # Nothing was half-written: the retry with the same key creates it once.
        again = api.post("/v1/actions", json=body, headers={"Idempotency-Key": "stall-1"})
        assert again.status_code == 201, again.text
    finally:
        engine.dispose()


def test_a_sealer_holding_the_audit_head_stops_no_proposal(api, settings):
    """The issue's outage: a worker died holding the audit log's head row, and intake stopped. Only
    sealers take that row now."""
    body = {"action_type": "refund", "title": "Refund 42", "confidence": 0.5, "payload": {"amount": 1}}
    engine = create_engine(settings.database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as sealer:
            sealer.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :g) ON CONFLICT DO NOTHING"),
                           {"g": "0" * 64})
            sealer.execute(text("BEGIN"))
            sealer.execute(text("SELECT 1 FROM audit_head FOR UPDATE"))
            assert [api.post("/v1/actions", json=body).status_code for _ in range(3)] == [201] * 3
            sealer.execute(text("ROLLBACK"))
    finally:
        engine.dispose()

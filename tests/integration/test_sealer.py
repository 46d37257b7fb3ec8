"""The workers' audit sealer: committed events are chained by the next pass, on the reconciler's
tick as on the worker's own thread, and a signed checkpoint follows when the log moved, and only then."""
from __future__ import annotations

from pydantic import SecretStr

from core import audit_checkpoints, audit_log, intake
from core.agents import create_agent
from core.proposal import Proposal


def _runtime(settings, **update):
    from bot.bootstrap import build_runtime

    return build_runtime(settings.model_copy(update={"auto_migrate": True, **update}))


def test_the_maintenance_tick_seals_and_signs_a_checkpoint_when_the_log_moved(settings):
    from workers.reconciler import LOCK, reconcile

    private, public = audit_checkpoints.new_key()
    path = settings.data_dir / "checkpoints.jsonl"
    rt = _runtime(settings, audit_signing_key=SecretStr(private), audit_checkpoint_file=path)
    try:
        agent, _ = create_agent(rt.services.db, "chore-agent")
        intake.submit(rt.services, agent, Proposal(action_type="ping", title="t", payload={}, confidence=0.9))
        reconcile(rt, rt.redis, 15)
        rt.redis.delete(LOCK)
        rt.sealer.checkpoint_seconds = 0
        reconcile(rt, rt.redis, 15)  # nothing new: no second line
        lines = audit_checkpoints.read(path)
        assert len(lines) == 1
        with rt.services.db.read() as s:
            report = audit_log.verify(s)
            assert report.ok and report.unsealed == 0 and report.last_seq == 3
            assert audit_checkpoints.check(s, lines, audit_checkpoints.public_key(public), report.last_seq) == []
        assert '"seq":3' in lines[0]
    finally:
        rt.close()


def test_checkpoints_wait_for_their_interval_but_sealing_does_not(settings):
    private, _public = audit_checkpoints.new_key()
    path = settings.data_dir / "checkpoints.jsonl"
    rt = _runtime(settings, audit_signing_key=SecretStr(private), audit_checkpoint_file=path,
                  audit_checkpoint_seconds=3600)
    try:
        agent, _ = create_agent(rt.services.db, "sealer-agent")
        for i in range(2):
            intake.submit(rt.services, agent, Proposal(action_type="ping", title=f"t{i}", payload={}, confidence=0.9))
            assert rt.sealer(rt) == 3  # each pass seals what was committed since the last
        assert len(audit_checkpoints.read(path)) == 1  # the first pass signed; the second is inside the hour
    finally:
        rt.close()


def test_a_worker_without_a_key_still_seals(settings):
    rt = _runtime(settings)
    try:
        agent, _ = create_agent(rt.services.db, "plain-agent")
        intake.submit(rt.services, agent, Proposal(action_type="ping", title="t", payload={}, confidence=0.9))
        assert rt.sealer(rt) == 3 and rt.sealer.key is None
        assert not settings.effective_checkpoint_file.exists()
    finally:
        rt.close()


def test_a_signing_key_that_is_no_key_turns_checkpoints_off_with_an_error(settings, caplog):
    rt = _runtime(settings, audit_signing_key=SecretStr("nope"))
    try:
        assert rt.sealer.key is None and "audit checkpoints are off" in caplog.text
    finally:
        rt.close()


def test_an_idle_sealer_locks_and_writes_nothing(settings):
    from sqlalchemy import func, select

    from core.store.tables import AuditHead

    private, _public = audit_checkpoints.new_key()
    rt = _runtime(settings, audit_signing_key=SecretStr(private), audit_checkpoint_seconds=0)
    try:
        assert rt.sealer(rt) == 0
        with rt.services.db.read() as s:
            assert s.scalar(select(func.count()).select_from(AuditHead)) == 0  # not even the head row
        agent, _ = create_agent(rt.services.db, "idle-agent")
        intake.submit(rt.services, agent, Proposal(action_type="ping", title="t", payload={}, confidence=0.9))
        assert rt.sealer(rt) == 3 and len(audit_checkpoints.read(settings.effective_checkpoint_file)) == 1
        assert rt.sealer(rt) == 0 and len(audit_checkpoints.read(settings.effective_checkpoint_file)) == 1
    finally:
        rt.close()

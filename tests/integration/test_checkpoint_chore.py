"""The workers' maintenance tick signs a checkpoint when the audit log moved, and only then."""
from __future__ import annotations

from pydantic import SecretStr

from core import audit_checkpoints, intake
from core.agents import create_agent
from core.proposal import Proposal


def test_the_maintenance_tick_appends_a_signed_checkpoint_when_the_log_moved(settings):
    from bot.bootstrap import build_runtime
    from workers.reconciler import LOCK, reconcile

    private, public = audit_checkpoints.new_key()
    path = settings.data_dir / "checkpoints.jsonl"
    rt = build_runtime(settings.model_copy(update={"audit_signing_key": SecretStr(private),
                                                   "audit_checkpoint_file": path, "auto_migrate": True}))
    try:
        agent, _ = create_agent(rt.services.db, "chore-agent")
        intake.submit(rt.services, agent, Proposal(action_type="ping", title="t", payload={}, confidence=0.9))
        reconcile(rt, rt.redis, 15)
        rt.redis.delete(LOCK)
        reconcile(rt, rt.redis, 15)  # nothing new: no second line
        lines = audit_checkpoints.read(path)
        assert len(lines) == 1
        with rt.services.db.read() as s:
            from core import audit_log

            end = audit_log.verify(s).last_seq
            assert audit_checkpoints.check(s, lines, audit_checkpoints.public_key(public), end) == []
        assert '"seq":' + str(end) in lines[0]
    finally:
        rt.close()


def test_a_signing_key_that_is_no_key_turns_checkpoints_off_with_an_error(settings, caplog):
    from bot.bootstrap import build_runtime

    rt = build_runtime(settings.model_copy(update={"audit_signing_key": SecretStr("nope")}))
    try:
        assert not any(c.__name__ == "write_checkpoint" for c in rt.chores)
        assert "audit checkpoints are off" in caplog.text
    finally:
        rt.close()

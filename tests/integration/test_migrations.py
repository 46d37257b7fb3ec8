from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.store.tables import Base


def test_migrations_match_the_models(db):
    """A model change without a migration fails here, on SQLite and on PostgreSQL."""
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diffs == []


def test_migrate_is_idempotent(db):
    db.migrate()
    db.migrate()
    with db.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == _head()


def test_schema_head_names_the_newest_migration(db):
    """Processes skip Alembic when the database is at SCHEMA_HEAD: a new migration must move it."""
    from core.store.db import SCHEMA_HEAD

    assert SCHEMA_HEAD == _head() and db.schema_version() == SCHEMA_HEAD


def test_a_database_behind_the_head_is_migrated(tmp_path):
    from alembic import command

    from core.store.db import SCHEMA_HEAD, Database

    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    assert db.schema_version() is None  # never migrated
    db.migrate()
    with db.engine.connect() as conn:
        cfg = _config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
        conn.commit()
    assert db.schema_version() == "0005"
    db.migrate()
    assert db.schema_version() == SCHEMA_HEAD
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM stat_rollups").scalar() == 0  # 0006 ran again
    db.dispose()


def _config():
    from alembic.config import Config

    from core.store.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _head() -> str:
    from alembic.script import ScriptDirectory

    from core.store.db import MIGRATIONS

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head == sorted(p.name[:4] for p in (MIGRATIONS / "versions").glob("0*.py"))[-1]  # numbered in order
    return head


def test_0015_keeps_a_sealed_log_and_new_events_continue_its_chain(services, agent, db):
    """Events written before 0015 keep their seq as their id; new ones get larger ids, and the
    sealer continues the same chain."""
    from alembic import command
    from sqlalchemy import text

    from core import audit_log, intake
    from core.proposal import Proposal
    from tests.fakes import seal

    def propose(title: str) -> None:
        intake.submit(services, agent, Proposal(action_type="ping", title=title, payload={}, confidence=0.9))

    propose("before")
    assert seal(services) == 3
    with db.engine.connect() as conn:
        cfg = _config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0014")
        conn.commit()
        assert [tuple(r) for r in conn.execute(text("SELECT seq FROM audit_events ORDER BY seq"))] == [(1,), (2,), (3,)]
        command.upgrade(cfg, "head")
        conn.commit()
        assert [tuple(r) for r in conn.execute(text("SELECT id, seq FROM audit_events ORDER BY id"))] == [
            (1, 1), (2, 2), (3, 3)]
    propose("after")
    assert seal(services) == 3
    with db.read() as s:
        report = audit_log.verify(s)
        ids = [i for (i,) in s.execute(text("SELECT id FROM audit_events ORDER BY seq"))]
    assert report.ok and report.checked == 6 and ids == sorted(ids) and ids[3] > 3


def test_0015_is_not_downgraded_over_events_waiting_to_be_sealed(services, agent, db):
    import pytest
    from alembic import command

    from core import intake
    from core.proposal import Proposal

    intake.submit(services, agent, Proposal(action_type="ping", title="t", payload={}, confidence=0.9))
    with db.engine.connect() as conn:
        cfg = _config()
        cfg.attributes["connection"] = conn
        with pytest.raises(RuntimeError, match="waiting to be sealed"):
            command.downgrade(cfg, "0014")

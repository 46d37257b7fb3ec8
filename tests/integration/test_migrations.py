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


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from core.store.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head == sorted(p.name[:4] for p in (MIGRATIONS / "versions").glob("0*.py"))[-1]  # numbered in order
    return head

"""audit events get an insertion id; their place in the hash chain (seq, prev_hash, hash) is given
after the commit by the workers' sealer, so no write waits on the audit head row

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""
from typing import Any

import sqlalchemy as sa
from alembic import op

import core.store.types

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

UNSEALED = sa.text("seq IS NULL")


def _sqlite_copy(new_columns: list[Any], select_sql: str, indexes) -> None:
    """SQLite cannot change a primary key in place: a new table, the rows copied in order, renamed."""
    op.create_table('audit_events_new', *new_columns)
    op.execute(f"INSERT INTO audit_events_new {select_sql}")
    op.drop_index('ix_audit_events_action_id', table_name='audit_events')
    op.drop_table('audit_events')
    op.rename_table('audit_events_new', 'audit_events')
    op.create_index('ix_audit_events_action_id', 'audit_events', ['action_id'], unique=False)
    indexes()


def _common() -> list[Any]:
    return [sa.Column('action_id', sa.String(length=40), nullable=True),
            sa.Column('kind', sa.String(length=32), nullable=False),
            sa.Column('data', core.store.types.JsonType, nullable=False),
            sa.Column('created_at', core.store.types.UTCDateTime(timezone=True), nullable=False)]


def _new_indexes() -> None:
    op.create_index('ix_audit_events_seq', 'audit_events', ['seq'], unique=True)
    op.create_index('ix_audit_events_unsealed', 'audit_events', ['id'], unique=False,
                    sqlite_where=UNSEALED, postgresql_where=UNSEALED)


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_copy([sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
                      sa.Column('seq', sa.Integer(), nullable=True), *_common(),
                      sa.Column('prev_hash', sa.String(length=64), nullable=True),
                      sa.Column('hash', sa.String(length=64), nullable=True)],
                     "(id, seq, action_id, kind, data, created_at, prev_hash, hash) "
                     "SELECT seq, seq, action_id, kind, data, created_at, prev_hash, hash FROM audit_events ORDER BY seq",
                     _new_indexes)
        return
    # PostgreSQL changes the table in place: existing events keep their seq as their id.
    op.drop_constraint('audit_events_pkey', 'audit_events', type_='primary')
    op.add_column('audit_events', sa.Column('id', sa.BigInteger(), nullable=True))
    op.execute("UPDATE audit_events SET id = seq")
    op.execute("CREATE SEQUENCE audit_events_id_seq OWNED BY audit_events.id")
    op.execute("SELECT setval('audit_events_id_seq', COALESCE((SELECT max(id) FROM audit_events), 0) + 1, false)")
    op.alter_column('audit_events', 'id', nullable=False, server_default=sa.text("nextval('audit_events_id_seq')"))
    op.create_primary_key('audit_events_pkey', 'audit_events', ['id'])
    for name in ('seq', 'prev_hash', 'hash'):
        op.alter_column('audit_events', name, nullable=True)
    _new_indexes()


def downgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM audit_events WHERE seq IS NULL")).scalar():
        raise RuntimeError("audit events are waiting to be sealed: run a worker (or `hitl audit checkpoint`) "
                           "before downgrading past 0015")
    op.drop_index('ix_audit_events_unsealed', table_name='audit_events')
    op.drop_index('ix_audit_events_seq', table_name='audit_events')
    if bind.dialect.name == 'sqlite':
        _sqlite_copy([sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False), *_common(),
                      sa.Column('prev_hash', sa.String(length=64), nullable=False),
                      sa.Column('hash', sa.String(length=64), nullable=False), sa.PrimaryKeyConstraint('seq')],
                     "(seq, action_id, kind, data, created_at, prev_hash, hash) "
                     "SELECT seq, action_id, kind, data, created_at, prev_hash, hash FROM audit_events ORDER BY seq",
                     lambda: None)
        return
    op.drop_constraint('audit_events_pkey', 'audit_events', type_='primary')
    op.drop_column('audit_events', 'id')
    for name in ('seq', 'prev_hash', 'hash'):
        op.alter_column('audit_events', name, nullable=False)
    op.create_primary_key('audit_events_pkey', 'audit_events', ['seq'])

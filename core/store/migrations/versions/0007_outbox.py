"""the transactional outbox

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

What the reconciler used to find with one query per table (reviews never posted, escalation
targets never told, spot checks never posted, callbacks never started) becomes outbox rows here,
due at once, so nothing owed at the upgrade is lost when those queries go.
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import core.store.types

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    outbox = op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('action_id', sa.String(length=64), nullable=False),
    sa.Column('ref', sa.String(length=100), nullable=False),
    sa.Column('created_at', core.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', core.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('done_at', core.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_open', ['done_at', 'due_at'], unique=False)
        batch_op.create_index('ix_outbox_action', ['action_id', 'kind'], unique=False)

    conn = op.get_bind()
    owed = [
        ("review_needed", "SELECT a.id, '' FROM actions a LEFT JOIN review_messages m ON m.action_id = a.id "
                          "WHERE a.status = 'pending' AND m.action_id IS NULL"),
        ("escalated", "SELECT action_id, CAST(seq AS VARCHAR(20)) FROM escalations WHERE notified_at IS NULL"),
        ("spot_check_needed", "SELECT action_id, '' FROM sample_audits WHERE posted_at IS NULL"),
        ("callback_owed", "SELECT a.id, '' FROM actions a LEFT JOIN deliveries d ON d.action_id = a.id "
                          "WHERE a.callback_url IS NOT NULL AND a.decision IS NOT NULL AND d.action_id IS NULL "
                          "AND a.status NOT IN ('pending', 'proposed')"),
    ]
    now = datetime.now(UTC)
    for kind, query in owed:
        rows = [{"kind": kind, "action_id": action_id, "ref": ref, "created_at": now, "due_at": now, "attempts": 0}
                for action_id, ref in conn.execute(sa.text(query))]
        if rows:
            op.bulk_insert(outbox, rows)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_action')
        batch_op.drop_index('ix_outbox_open')
    op.drop_table('outbox')

"""an approval's lifetime and its single execution claim

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

The timer now also runs after a go-ahead (approval_ttl), so a timer left behind on an action that
was decided before this migration must not fire: only pending actions keep theirs.
"""
import sqlalchemy as sa
from alembic import op

import core.store.types

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approval_expires_at', core.store.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('execution_claimed_at', core.store.types.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE actions SET timer_at = NULL WHERE status <> 'pending' AND timer_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_column('execution_claimed_at')
        batch_op.drop_column('approval_expires_at')

"""indexes for /hitl-stats windows

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21

Every /hitl-stats figure filters actions by created_at or decided_at over a window; without these
each period scanned the whole table (bench/stats.py).
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.create_index('ix_actions_created', ['created_at'], unique=False)
        batch_op.create_index('ix_actions_decided', ['decided_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index('ix_actions_decided')
        batch_op.drop_index('ix_actions_created')

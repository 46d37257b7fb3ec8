"""one row per escalation notice and target: each is sent at most once, and a failing one alone is retried

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

import core.store.types

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('escalation_notices',
    sa.Column('action_id', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('updated_at', core.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('action_id', 'seq', 'target')
    )


def downgrade() -> None:
    op.drop_table('escalation_notices')

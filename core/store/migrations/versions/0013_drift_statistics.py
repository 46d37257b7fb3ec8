"""each action type's drift statistic, so intake can tighten spot checks on suspicion

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

import core.store.types

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('drift_statistics',
    sa.Column('action_type', sa.String(length=64), nullable=False),
    sa.Column('statistic', sa.Double(), nullable=False),
    sa.Column('updated_at', core.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('action_type')
    )


def downgrade() -> None:
    op.drop_table('drift_statistics')

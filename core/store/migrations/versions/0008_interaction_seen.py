"""what a click's button showed: the revision and payload hash it was cast on

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Clicks recorded before this have none and are applied as they were then (core/inbox.py).
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seen', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.drop_column('seen')

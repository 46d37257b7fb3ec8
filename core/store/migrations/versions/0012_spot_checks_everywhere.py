"""spot checks for every auto-approval, with the probability each was drawn with; drift alarms;
operator keys

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04

Spot checks drawn before this migration have no probability: the stats' estimate for all
auto-approved traffic starts with the auto-approvals made after it.
"""
import sqlalchemy as sa
from alembic import op

import core.store.types

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sample_audits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('action_type', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('agent_version', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('probability', sa.Double(), nullable=True))
        batch_op.create_index('ix_sample_audits_type', ['action_type', 'created_at'], unique=False)
    op.execute("UPDATE sample_audits SET action_type = "
               "(SELECT action_type FROM actions WHERE actions.id = sample_audits.action_id)")
    with op.batch_alter_table('stat_rollups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('strata', sa.JSON(none_as_null=True), nullable=False, server_default='{}'))
    op.create_table('drift_alarms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_type', sa.String(length=64), nullable=False),
    sa.Column('open_key', sa.String(length=64), nullable=True),
    sa.Column('detected_at', core.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('hold', sa.Boolean(), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=True),
    sa.Column('message_ts', sa.String(length=40), nullable=True),
    sa.Column('cleared_at', core.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cleared_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('open_key')
    )
    op.create_table('operator_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('reviewer', sa.String(length=100), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('key_prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', core.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', core.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash'),
    sa.UniqueConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('operator_keys')
    op.drop_table('drift_alarms')
    with op.batch_alter_table('stat_rollups', schema=None) as batch_op:
        batch_op.drop_column('strata')
    with op.batch_alter_table('sample_audits', schema=None) as batch_op:
        batch_op.drop_index('ix_sample_audits_type')
        batch_op.drop_column('probability')
        batch_op.drop_column('agent_version')
        batch_op.drop_column('action_type')

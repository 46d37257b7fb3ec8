"""gold items: past decided actions shown again to measure each reviewer's accuracy; held checks:
would-be auto-approvals a person saw before they ran, while their type was under suspicion

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

import core.store.types

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('gold_items',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('action_id', sa.String(length=40), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('action_type', sa.String(length=64), nullable=False),
    sa.Column('answer', sa.String(length=16), nullable=False),
    sa.Column('basis', sa.String(length=16), nullable=False),
    sa.Column('created_at', core.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=True),
    sa.Column('message_ts', sa.String(length=40), nullable=True),
    sa.Column('posted_at', core.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reviewer', sa.String(length=100), nullable=True),
    sa.Column('response', sa.String(length=16), nullable=True),
    sa.Column('reason_tags', core.store.types.JsonType, nullable=True),
    sa.Column('correct', sa.Boolean(), nullable=True),
    sa.Column('own', sa.Boolean(), nullable=True),
    sa.Column('answered_at', core.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_gold_items_answered', 'gold_items', ['answered_at', 'reviewer'], unique=False)
    op.create_index('ix_gold_items_source', 'gold_items', ['action_id'], unique=False)
    op.create_table('held_checks',
    sa.Column('action_id', sa.String(length=40), nullable=False),
    sa.Column('action_type', sa.String(length=64), nullable=False),
    sa.Column('probability', sa.Double(), nullable=False),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('decided_at', core.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], ),
    sa.PrimaryKeyConstraint('action_id')
    )
    op.create_index('ix_held_checks_type', 'held_checks', ['action_type', 'decided_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_held_checks_type', table_name='held_checks')
    op.drop_table('held_checks')
    op.drop_index('ix_gold_items_source', table_name='gold_items')
    op.drop_index('ix_gold_items_answered', table_name='gold_items')
    op.drop_table('gold_items')

"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""
import sqlalchemy as sa
from alembic import op

import core.store.types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('agents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('key_prefix', sa.String(length=16), nullable=False),
    sa.Column('action_types', core.store.types.JsonType, nullable=True),
    sa.Column('created_at', core.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', core.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash'),
    sa.UniqueConstraint('name')
    )
    op.create_table('audit_events',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('action_id', sa.String(length=40), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('data', core.store.types.JsonType, nullable=False),
    sa.Column('created_at', core.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action_id'), ['action_id'], unique=False)

    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('policy_versions',
    sa.Column('version', sa.String(length=80), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('loaded_at', core.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version')
    )
    op.create_table('actions',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('action_type', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('payload', core.store.types.JsonType, nullable=False),
    sa.Column('current_payload', core.store.types.JsonType, nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('confidence', sa.Double(), nullable=False),
    sa.Column('risk', sa.String(length=16), nullable=False),
    sa.Column('context', core.store.types.JsonType, nullable=False),
    sa.Column('run_id', sa.String(length=200), nullable=True),
    sa.Column('call_id', sa.String(length=200), nullable=True),
    sa.Column('state', core.store.types.JsonType, nullable=True),
    sa.Column('callback_url', sa.String(length=2000), nullable=True),
    sa.Column('deadline', core.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('review_mode', sa.String(length=16), nullable=False),
    sa.Column('rule', sa.String(length=300), nullable=False),
    sa.Column('route', core.store.types.JsonType, nullable=False),
    sa.Column('policy_version', sa.String(length=80), nullable=False),
    sa.Column('approvals_required', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=True),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', core.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('decided_at', core.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', core.store.types.JsonType, nullable=True),
    sa.Column('final_payload', core.store.types.JsonType, nullable=True),
    sa.Column('patch', core.store.types.JsonType, nullable=True),
    sa.Column('text_diff', sa.Text(), nullable=True),
    sa.Column('outcome_result', core.store.types.JsonType, nullable=True),
    sa.Column('outcome_at', core.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agent_id', 'idempotency_key', name='uq_actions_agent_idempotency')
    )
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.create_index('ix_actions_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index('ix_actions_type_created', ['action_type', 'created_at'], unique=False)

    op.create_table('votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.String(length=40), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('reviewer', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reason_tags', core.store.types.JsonType, nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('ratings', core.store.types.JsonType, nullable=True),
    sa.Column('edited_payload', core.store.types.JsonType, nullable=True),
    sa.Column('patch', core.store.types.JsonType, nullable=True),
    sa.Column('text_diff', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('created_at', core.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('time_to_decision_s', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('action_id', 'revision', 'reviewer', name='uq_votes_once_per_revision')
    )
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_votes_action_id'), ['action_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_votes_action_id'))

    op.drop_table('votes')
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index('ix_actions_type_created')
        batch_op.drop_index('ix_actions_status_created')

    op.drop_table('actions')
    op.drop_table('policy_versions')
    op.drop_table('audit_head')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_action_id'))

    op.drop_table('audit_events')
    op.drop_table('agents')


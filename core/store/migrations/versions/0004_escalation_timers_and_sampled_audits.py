"""escalation timers and sampled audits

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21

Pending actions created before this revision keep their agent deadline as their timer, so they
still expire; their escalation trees (never run before) start from the first level only for new actions.
"""
import sqlalchemy as sa
from alembic import op

import core.store.types

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('escalations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('targets', sa.JSON(none_as_null=True), nullable=False),
    sa.Column('due_at', core.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('fired_at', core.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('notified_at', core.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('action_id', 'seq', name='uq_escalations_seq')
    )
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalations_action_id'), ['action_id'], unique=False)
        batch_op.create_index('ix_escalations_unnotified', ['notified_at', 'fired_at'], unique=False)

    op.create_table('sample_audits',
    sa.Column('action_id', sa.String(length=40), nullable=False),
    sa.Column('created_at', core.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=True),
    sa.Column('message_ts', sa.String(length=40), nullable=True),
    sa.Column('posted_at', core.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('verdict', sa.String(length=16), nullable=True),
    sa.Column('reason_tags', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('auditor', sa.String(length=100), nullable=True),
    sa.Column('decided_at', core.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], ),
    sa.PrimaryKeyConstraint('action_id')
    )
    with op.batch_alter_table('sample_audits', schema=None) as batch_op:
        batch_op.create_index('ix_sample_audits_unposted', ['posted_at', 'created_at'], unique=False)

    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timer_at', core.store.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('timer_seq', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('esc_level', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('esc_round', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index('ix_actions_status_timer', ['status', 'timer_at'], unique=False)
    op.execute("UPDATE actions SET timer_at = deadline WHERE status = 'pending' AND deadline IS NOT NULL")



def downgrade() -> None:
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index('ix_actions_status_timer')
        batch_op.drop_column('esc_round')
        batch_op.drop_column('esc_level')
        batch_op.drop_column('timer_seq')
        batch_op.drop_column('timer_at')

    with op.batch_alter_table('sample_audits', schema=None) as batch_op:
        batch_op.drop_index('ix_sample_audits_unposted')

    op.drop_table('sample_audits')
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_index('ix_escalations_unnotified')
        batch_op.drop_index(batch_op.f('ix_escalations_action_id'))

    op.drop_table('escalations')

"""who made each decision (a human, the policy, auto-approval, the agent), the agent's version, and
rollups that count only human decisions as reviews

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

An escalation tree's final approve or reject used to be counted as a human review: in the rates,
calibration and the autonomy evidence. Existing decisions get their source from what is known of
them: auto-approved and blocked on arrival, cancelled by the agent, and a decision whose only
decider is "policy" (a final action or an expiry). The rollups are then recomputed.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision_source', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('agent_version', sa.String(length=100), nullable=True))
        batch_op.drop_index('ix_actions_decided')
        batch_op.create_index('ix_actions_decided', ['decided_at', 'decision', 'created_at', 'agent_id', 'action_type',
                                                     'decision_source'], unique=False)
    with op.batch_alter_table('stat_rollups', schema=None) as batch_op:
        for name in ('policy_approved', 'policy_rejected', 'expired'):
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default='0'))
    by_policy = "CAST(decided_by AS TEXT) = '[\"policy\"]'"
    op.execute("UPDATE actions SET decision_source = 'auto' WHERE decision = 'auto_approved'")
    op.execute("UPDATE actions SET decision_source = 'policy' WHERE decision IN ('blocked', 'expired')")
    op.execute("UPDATE actions SET decision_source = 'agent' WHERE decision = 'cancelled'")
    op.execute(f"UPDATE actions SET decision_source = 'policy' WHERE decision IN ('approved', 'rejected') AND {by_policy}")
    op.execute("UPDATE actions SET decision_source = 'human' WHERE decision IN ('approved', 'modified', 'rejected') "
               "AND decision_source IS NULL")

    from core import rollups

    # The one rebuild of the migration chain: it runs today's counting code, which needs today's columns.
    rollups.rebuild(Session(bind=op.get_bind()))


def downgrade() -> None:
    with op.batch_alter_table('stat_rollups', schema=None) as batch_op:
        for name in ('expired', 'policy_rejected', 'policy_approved'):
            batch_op.drop_column(name)
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index('ix_actions_decided')
        batch_op.create_index('ix_actions_decided', ['decided_at', 'decision', 'created_at', 'agent_id', 'action_type'],
                              unique=False)
        batch_op.drop_column('agent_version')
        batch_op.drop_column('decision_source')

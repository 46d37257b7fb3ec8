"""hourly and daily /hitl-stats rollups, window indexes for what is still read raw, votes' scope

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21

The rollups are filled from the existing history by migration 0011, with the same functions that
keep them current afterwards (core.rollups), so counts before and after the upgrade agree.
"""
import sqlalchemy as sa
from alembic import op

import core.store.types

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


# {k: a[k] + b[k]}: how a rollup row's maps (reason tags, fields, histogram) take a new tally in
# one upsert. Sums are numeric, so calibration's confidence sums stay exact.
JSON_ADD = """
CREATE OR REPLACE FUNCTION hitl_json_add(a json, b json) RETURNS json LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  -- Most merges add nothing to most maps (a proposal carries no tags): skip those cheaply.
  IF b IS NULL OR b::text = '{}' THEN RETURN coalesce(a, '{}'::json); END IF;
  IF a IS NULL OR a::text = '{}' THEN RETURN b; END IF;
  RETURN (SELECT json_object_agg(key, total)
          FROM (SELECT key, sum(value::text::numeric) AS total
                FROM (SELECT * FROM json_each(a) UNION ALL SELECT * FROM json_each(b)) AS pairs
                GROUP BY key) AS sums);
END
$$
"""


def upgrade() -> None:
    op.create_table('stat_rollups',
    sa.Column('grain', sa.String(length=4), nullable=False),
    sa.Column('start', core.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('action_type', sa.String(length=64), nullable=False),
    sa.Column('proposed', sa.Integer(), nullable=False),
    sa.Column('auto_approved', sa.Integer(), nullable=False),
    sa.Column('blocked', sa.Integer(), nullable=False),
    sa.Column('approved', sa.Integer(), nullable=False),
    sa.Column('modified', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('shadow_decided', sa.Integer(), nullable=False),
    sa.Column('shadow_agreed', sa.Integer(), nullable=False),
    sa.Column('multi_voted', sa.Integer(), nullable=False),
    sa.Column('multi_agreed', sa.Integer(), nullable=False),
    sa.Column('votes', sa.Integer(), nullable=False),
    sa.Column('tags', sa.JSON(none_as_null=True), nullable=False),
    sa.Column('fields', sa.JSON(none_as_null=True), nullable=False),
    sa.Column('field_sets', sa.JSON(none_as_null=True), nullable=False),
    sa.Column('ttd', sa.JSON(none_as_null=True), nullable=False),
    sa.Column('calibration', sa.JSON(none_as_null=True), nullable=False),
    sa.Column('reviewers', sa.JSON(none_as_null=True), nullable=False),
    sa.PrimaryKeyConstraint('grain', 'start', 'agent_id', 'action_type')
    )
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agent_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('action_type', sa.String(length=64), nullable=True))
    op.execute("UPDATE votes SET agent_id = (SELECT agent_id FROM actions WHERE actions.id = votes.action_id), "
               "action_type = (SELECT action_type FROM actions WHERE actions.id = votes.action_id)")
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.create_index('ix_votes_created', ['created_at', 'reviewer', 'kind', 'time_to_decision_s', 'agent_id',
                                                   'action_type'], unique=False)
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index('ix_actions_decided')
        batch_op.create_index('ix_actions_decided', ['decided_at', 'decision', 'created_at', 'agent_id', 'action_type'],
                              unique=False)
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.create_index('ix_escalations_fired', ['fired_at'], unique=False)
    with op.batch_alter_table('sample_audits', schema=None) as batch_op:
        batch_op.create_index('ix_sample_audits_created', ['created_at'], unique=False)

    if op.get_bind().dialect.name == "postgresql":  # SQLite gets it from core.store.db on each connection
        op.execute(JSON_ADD)

    # The rollups are filled by the newest migration that changes what they count (0011): a rebuild
    # here would run today's counting code against this revision's columns.


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS hitl_json_add(json, json)")
    with op.batch_alter_table('sample_audits', schema=None) as batch_op:
        batch_op.drop_index('ix_sample_audits_created')
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_index('ix_escalations_fired')
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index('ix_actions_decided')
        batch_op.create_index('ix_actions_decided', ['decided_at'], unique=False)
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_index('ix_votes_created')
        batch_op.drop_column('action_type')
        batch_op.drop_column('agent_id')
    op.drop_table('stat_rollups')

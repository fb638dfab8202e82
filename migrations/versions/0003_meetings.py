"""community meetings, private answers kept out of Rasa, sign-ups (with waitlist) and one-time sign-up notices

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 16:10:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expecting', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('private_answer', sa.String(length=120), nullable=True))
    op.create_table('meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_uid', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=255), nullable=True),
    sa.Column('room', sa.String(length=120), nullable=True),
    sa.Column('virtual_url', sa.String(length=500), nullable=True),
    sa.Column('neighborhood', sa.String(length=120), nullable=True),
    sa.Column('zipcode', sa.String(length=10), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('seats_taken', sa.Integer(), nullable=False),
    sa.Column('languages', sa.String(length=32), nullable=False),
    sa.Column('accessibility', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_uid')
    )
    op.create_index('ix_meetings_starts_at', 'meetings', ['starts_at'], unique=False)
    op.create_table('signups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('party_size', sa.Integer(), nullable=False),
    sa.Column('reminders', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('notified_version', sa.Integer(), nullable=False),
    sa.Column('promoted_at', sa.DateTime(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_index('ix_signups_meeting', 'signups', ['meeting_id', 'status', 'id'], unique=False)
    op.create_index('ix_signups_conversation', 'signups', ['conversation_id', 'status'], unique=False)
    active = sa.text("status IN ('registered', 'waitlisted')")
    op.create_index('uq_signups_active', 'signups', ['meeting_id', 'conversation_id'], unique=True,
                    sqlite_where=active, postgresql_where=active)
    op.create_table('signup_notices',
    sa.Column('signup_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['signup_id'], ['signups.id'], ),
    sa.PrimaryKeyConstraint('signup_id', 'kind')
    )


def downgrade() -> None:
    op.drop_table('signup_notices')
    op.drop_index('uq_signups_active', table_name='signups')
    op.drop_index('ix_signups_conversation', table_name='signups')
    op.drop_index('ix_signups_meeting', table_name='signups')
    op.drop_table('signups')
    op.drop_index('ix_meetings_starts_at', table_name='meetings')
    op.drop_table('meetings')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('private_answer')
        batch_op.drop_column('expecting')

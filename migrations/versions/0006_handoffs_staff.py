"""human handoff and the staff console: handoffs, staff accounts, private notes, audit log

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 22:10:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff_accounts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('failed_sign_ins', sa.Integer(), nullable=False),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.Column('last_sign_in_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('username'),
    )
    op.create_table('handoffs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=24), nullable=False),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.Column('holds', sa.Boolean(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('report_id', sa.Integer(), nullable=True),
        sa.Column('assigned_to', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('claimed_at', sa.DateTime(), nullable=True),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.Column('resolved_by', sa.String(length=64), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id']),
        sa.ForeignKeyConstraint(['report_id'], ['reports.id']),
        sa.ForeignKeyConstraint(['assigned_to'], ['staff_accounts.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_handoffs_queue', 'handoffs', ['state', 'priority', 'created_at'])
    op.create_index('ix_handoffs_conversation', 'handoffs', ['conversation_id', 'id'])
    op.create_index('uq_handoffs_open', 'handoffs', ['conversation_id'], unique=True,
                    sqlite_where=sa.text("state IN ('waiting', 'claimed')"),
                    postgresql_where=sa.text("state IN ('waiting', 'claimed')"))
    op.create_table('staff_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('author', sa.String(length=64), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_staff_notes_conversation', 'staff_notes', ['conversation_id', 'id'])
    op.create_table('audit_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=True),
        sa.Column('detail', sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_audit_log_at', 'audit_log', ['at'])
    op.create_index('ix_audit_log_conversation', 'audit_log', ['conversation_id', 'at'])


def downgrade() -> None:
    op.drop_index('ix_audit_log_conversation', table_name='audit_log')
    op.drop_index('ix_audit_log_at', table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_index('ix_staff_notes_conversation', table_name='staff_notes')
    op.drop_table('staff_notes')
    op.drop_index('uq_handoffs_open', table_name='handoffs')
    op.drop_index('ix_handoffs_conversation', table_name='handoffs')
    op.drop_index('ix_handoffs_queue', table_name='handoffs')
    op.drop_table('handoffs')
    op.drop_table('staff_accounts')

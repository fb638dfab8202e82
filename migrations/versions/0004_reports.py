"""non-emergency reports, their photos and the outbox that forwards them

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 10:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=24), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('report_type', sa.String(length=40), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('place_text', sa.String(length=500), nullable=True),
    sa.Column('place_json', sa.Text(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(), nullable=True),
    sa.Column('occurred_text', sa.String(length=200), nullable=True),
    sa.Column('follow_up_consent', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_notes', sa.Text(), nullable=True),
    sa.Column('review_reason', sa.String(length=120), nullable=True),
    sa.Column('upstream_id', sa.String(length=64), nullable=True),
    sa.Column('upstream_token', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_notified_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    op.create_index('ix_reports_conversation', 'reports', ['conversation_id', 'created_at'], unique=False)
    op.create_index('ix_reports_staff', 'reports', ['status', 'report_type', 'created_at'], unique=False)
    op.create_table('report_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_report_photos_report', 'report_photos', ['report_id', 'id'], unique=False)
    op.create_table('report_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.String(length=255), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('report_id')
    )
    op.create_index('ix_report_outbox_due', 'report_outbox', ['state', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_report_outbox_due', table_name='report_outbox')
    op.drop_table('report_outbox')
    op.drop_index('ix_report_photos_report', table_name='report_photos')
    op.drop_table('report_photos')
    op.drop_index('ix_reports_staff', table_name='reports')
    op.drop_index('ix_reports_conversation', table_name='reports')
    op.drop_table('reports')

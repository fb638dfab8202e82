"""messages.safety holds the possible-danger tier's events too ("possible_emergency")

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 23:30:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.alter_column('safety', existing_type=sa.String(length=16), type_=sa.String(length=32),
                              existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.alter_column('safety', existing_type=sa.String(length=32), type_=sa.String(length=16),
                              existing_nullable=True)

"""the inbound message a turn's replies answer, so that a turn interrupted after they were
recorded delivers them instead of running again

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 02:40:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_to', sa.Integer(), nullable=True))
        batch_op.create_index('ix_messages_reply_to', ['reply_to'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_reply_to')
        batch_op.drop_column('reply_to')

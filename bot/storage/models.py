"""Tables. Schema changes go through Alembic migrations (migrations/)."""
from __future__ import annotations

from sqlalchemy import (
    Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Conversation(Base):
    """One resident on one channel. `address` is the phone number (personal data, kept here
    to reply and nowhere else) or, on the web, the SHA-256 of the session token (the token
    itself is never stored). Logs, Redis and Rasa see only `address_hash`."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "address_hash", name="uq_conversation_address"),)

    id = Column(Integer, primary_key=True)
    channel = Column(String(16), nullable=False)
    address_hash = Column(String(64), nullable=False)
    address = Column(String(255), nullable=False)
    language = Column(String(8), nullable=True)
    menu = Column(Text, nullable=True)  # JSON list of {title, payload} offered in the last reply
    flagged = Column(Boolean, nullable=False, default=False)
    flag_reason = Column(String(32), nullable=True)
    flagged_at = Column(DateTime, nullable=True)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)


class Message(Base):
    """Every inbound and outbound message, stored before it is acknowledged or sent."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_message_external_id"),
        Index("ix_messages_conversation", "conversation_id", "id"),
        Index("ix_messages_pending", "direction", "status", "updated_at"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=False)
    channel = Column(String(16), nullable=False)
    direction = Column(String(8), nullable=False)  # in | out
    author = Column(String(16), nullable=False)  # resident | assistant | system | staff
    text = Column(Text, nullable=False, default="")
    external_id = Column(String(64), nullable=True)  # Twilio MessageSid
    status = Column(String(16), nullable=False)
    num_media = Column(Integer, nullable=False, default=0)
    intent = Column(String(64), nullable=True)
    confidence = Column(Float, nullable=True)
    safety = Column(String(16), nullable=True)
    attempts = Column(Integer, nullable=False, default=0)
    error = Column(String(255), nullable=True)
    # Outbound only: JSON list of {title, payload} offered with the message. SMS shows them
    # as a numbered menu inside `text`; the web widget shows them as buttons.
    buttons = Column(Text, nullable=True)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)


class OptOut(Base):
    """The consent ledger: current state per number (by keyed hash)."""

    __tablename__ = "opt_outs"

    address_hash = Column(String(64), primary_key=True)
    opted_out = Column(Boolean, nullable=False)
    keyword = Column(String(16), nullable=True)
    changed_at = Column(DateTime, nullable=False)


class InboundStatus:
    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"
    PENDING = (RECEIVED,)


class OutboundStatus:
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    RECORDED = "recorded"  # development outbox: kept, never sent
    BLOCKED = "blocked"  # opted out: kept, never sent
    FAILED = "failed"
    RETRYING = "retrying"

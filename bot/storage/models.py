"""Tables. Schema changes go through Alembic migrations (migrations/)."""
from __future__ import annotations

from sqlalchemy import (
    Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text,
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
    # A form asked for something kept out of Rasa (bot/private_answers.py) and the answer.
    expecting = Column(String(32), nullable=True)
    private_answer = Column(String(120), nullable=True)
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
        Index("ix_messages_reply_to", "reply_to"),
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
    safety = Column(String(32), nullable=True)  # emergency | crisis | possible_emergency | possible_crisis
    attempts = Column(Integer, nullable=False, default=0)
    error = Column(String(255), nullable=True)
    # Outbound only: JSON list of {title, payload} offered with the message. SMS shows them
    # as a numbered menu inside `text`; the web widget shows them as buttons.
    buttons = Column(Text, nullable=True)
    # Outbound only: the inbound message whose Rasa turn produced this reply. A turn's replies
    # are recorded together before the first is sent; if the turn is interrupted before its
    # message is marked handled, the next attempt sends those still queued instead of asking
    # Rasa again (which would answer twice).
    reply_to = Column(Integer, nullable=True)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)


class OptOut(Base):
    """The consent ledger: current state per number (by keyed hash)."""

    __tablename__ = "opt_outs"

    address_hash = Column(String(64), primary_key=True)
    opted_out = Column(Boolean, nullable=False)
    keyword = Column(String(16), nullable=True)
    changed_at = Column(DateTime, nullable=False)


class Meeting(Base):
    """One community meeting (one occurrence of a recurring calendar event).

    `source_uid` identifies it in the department's calendar (iCalendar UID, plus the
    occurrence start for recurring events; or the YAML id), so re-imports update in place.
    Times are naive UTC like every stored timestamp; `timezone` is how residents read them.
    `version` goes up when the time or place changes or the meeting is called off: a sweep
    tells registered residents once per version. `seats_taken` is kept in the same
    transaction as the sign-ups, so a conditional UPDATE can give away the last seat once."""

    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_starts_at", "starts_at"),)

    id = Column(Integer, primary_key=True)
    source_uid = Column(String(255), nullable=False, unique=True)
    title = Column(String(200), nullable=False)
    kind = Column(String(40), nullable=False)  # a meeting_type value (town_hall, ...)
    starts_at = Column(DateTime, nullable=False)
    ends_at = Column(DateTime, nullable=False)
    timezone = Column(String(64), nullable=False)
    address = Column(String(255), nullable=True)
    room = Column(String(120), nullable=True)
    virtual_url = Column(String(500), nullable=True)
    neighborhood = Column(String(120), nullable=True)
    zipcode = Column(String(10), nullable=True)
    capacity = Column(Integer, nullable=True)  # None: no limit
    seats_taken = Column(Integer, nullable=False, default=0)
    languages = Column(String(32), nullable=False, default="en")  # comma-separated: "en,es"
    accessibility = Column(Text, nullable=True)
    description = Column(Text, nullable=True)
    status = Column(String(16), nullable=False, default="scheduled")  # scheduled | cancelled
    version = Column(Integer, nullable=False, default=1)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)


class Signup(Base):
    """A resident's registration for one meeting (or a place on its waitlist)."""

    __tablename__ = "signups"
    __table_args__ = (
        Index("ix_signups_meeting", "meeting_id", "status", "id"),
        Index("ix_signups_conversation", "conversation_id", "status"),
        # one active sign-up per resident per meeting, even when two requests race
        Index("uq_signups_active", "meeting_id", "conversation_id", unique=True,
              sqlite_where=text("status IN ('registered', 'waitlisted')"),
              postgresql_where=text("status IN ('registered', 'waitlisted')")),
    )

    id = Column(Integer, primary_key=True)
    code = Column(String(16), nullable=False, unique=True)  # the resident's reference, "M-4K7Q"
    meeting_id = Column(Integer, ForeignKey("meetings.id"), nullable=False)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=False)
    name = Column(String(120), nullable=False)  # personal data: staff roster only
    party_size = Column(Integer, nullable=False, default=1)
    reminders = Column(Boolean, nullable=False, default=False)  # consented to reminder texts
    status = Column(String(16), nullable=False)  # registered | waitlisted | cancelled
    notified_version = Column(Integer, nullable=False, default=1)
    promoted_at = Column(DateTime, nullable=True)  # moved in from the waitlist
    cancelled_at = Column(DateTime, nullable=True)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)


class SignupNotice(Base):
    """A one-time text about a sign-up (a reminder, "you're in", "the meeting moved").
    The primary key makes each notice happen once, whatever the number of sweepers."""

    __tablename__ = "signup_notices"

    signup_id = Column(Integer, ForeignKey("signups.id"), primary_key=True)
    kind = Column(String(32), primary_key=True)  # reminder_1440 | promoted | changed_3 ...
    outcome = Column(String(16), nullable=False)  # sent | skipped
    created_at = Column(DateTime, nullable=False)


class SignupStatus:
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


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


class Report(Base):
    """A non-emergency report a resident filed. `reference` ("R-1042") is what the resident
    reads back; it follows the id (1000 + id - 1) and is set in the inserting transaction.
    `anonymous`: the department must not see the resident's contact details (the row still
    belongs to the conversation that filed it, so only that resident can look it up).
    `review_reason` holds a report for staff before it goes anywhere (e.g. an
    appearance-only description)."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_conversation", "conversation_id", "created_at"),
        Index("ix_reports_staff", "status", "report_type", "created_at"),
    )

    id = Column(Integer, primary_key=True)
    reference = Column(String(24), nullable=False, unique=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=False)
    anonymous = Column(Boolean, nullable=False, default=False)
    report_type = Column(String(40), nullable=False)
    description = Column(Text, nullable=False, default="")
    place_text = Column(String(500), nullable=True)
    place_json = Column(Text, nullable=True)  # JSON: geocoded place (lat, long, address...)
    occurred_at = Column(DateTime, nullable=True)  # naive UTC
    occurred_text = Column(String(200), nullable=True)  # what the resident said ("last night")
    follow_up_consent = Column(Boolean, nullable=False, default=False)
    status = Column(String(16), nullable=False)  # a ReportStatus value
    status_notes = Column(Text, nullable=True)
    review_reason = Column(String(120), nullable=True)
    upstream_id = Column(String(64), nullable=True)  # the department system's service_request_id
    upstream_token = Column(String(64), nullable=True)  # Open311 token until the id is known
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)
    closed_at = Column(DateTime, nullable=True)
    closed_notified_at = Column(DateTime, nullable=True)


class ReportPhoto(Base):
    """A photo attached to a report; `key` names the stored (re-encoded) image."""

    __tablename__ = "report_photos"
    __table_args__ = (Index("ix_report_photos_report", "report_id", "id"),)

    id = Column(Integer, primary_key=True)
    report_id = Column(Integer, ForeignKey("reports.id"), nullable=False)
    key = Column(String(255), nullable=False)
    content_type = Column(String(64), nullable=False)
    width = Column(Integer, nullable=True)
    height = Column(Integer, nullable=True)
    created_at = Column(DateTime, nullable=False)


class InboundMedia(Base):
    """A picture a resident sent (MMS). The webhook stores the provider's URL with the message,
    before acknowledging it; a worker fetches and cleans the image (bot/reports/media.py),
    keeps it under `photo_key` and forgets the URL. A report filed later in the same
    conversation takes the stored, unattached pictures (`report_id`)."""

    __tablename__ = "inbound_media"
    __table_args__ = (
        UniqueConstraint("message_id", "position", name="uq_inbound_media_position"),
        Index("ix_inbound_media_conversation", "conversation_id", "state", "report_id"),
    )

    id = Column(Integer, primary_key=True)
    message_id = Column(Integer, ForeignKey("messages.id"), nullable=False)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=False)
    position = Column(Integer, nullable=False)  # 0..9: MediaUrl0..MediaUrl9
    url = Column(String(1000), nullable=True)  # cleared once fetched or refused
    declared_type = Column(String(100), nullable=True)  # MediaContentTypeN, not trusted
    state = Column(String(16), nullable=False)  # a MediaState value
    photo_key = Column(String(255), nullable=True)
    content_type = Column(String(64), nullable=True)
    width = Column(Integer, nullable=True)
    height = Column(Integer, nullable=True)
    error = Column(String(120), nullable=True)
    report_id = Column(Integer, ForeignKey("reports.id"), nullable=True)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)


class ReportOutbox(Base):
    """Forwarding a report to the department system: one row per report, claimed by a
    conditional UPDATE (pending -> sending) so two workers never send the same report."""

    __tablename__ = "report_outbox"
    __table_args__ = (Index("ix_report_outbox_due", "state", "next_attempt_at"),)

    id = Column(Integer, primary_key=True)
    report_id = Column(Integer, ForeignKey("reports.id"), nullable=False, unique=True)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime, nullable=False)
    last_error = Column(String(255), nullable=True)
    state = Column(String(16), nullable=False)  # an OutboxState value
    updated_at = Column(DateTime, nullable=False)


class ReportStatus:
    RECEIVED = "received"  # stored here, not (yet) with the department
    FORWARDED = "forwarded"  # the department system accepted it
    OPEN = "open"
    CLOSED = "closed"
    REJECTED = "rejected"
    ALL = (RECEIVED, FORWARDED, OPEN, CLOSED, REJECTED)


class MediaState:
    PENDING = "pending"  # URL stored, not fetched yet
    STORED = "stored"  # cleaned image kept under photo_key
    REFUSED = "refused"  # not an image, too large, or unreadable
    FAILED = "failed"  # the provider would not give it to us


class OutboxState:
    PENDING = "pending"
    SENDING = "sending"
    DONE = "done"
    REJECTED = "rejected"


class Handoff(Base):
    """A conversation passed to a person. At most one is open (waiting or claimed) per
    conversation: the partial unique index makes two triggers racing open one, not two.
    While it is open and `holds` is true, the pipeline routes the resident's messages to staff
    instead of Rasa (the safety screen still answers first). A report held for review opens
    one that does not hold: staff see it in the queue, the assistant keeps answering."""

    __tablename__ = "handoffs"
    __table_args__ = (
        Index("ix_handoffs_queue", "state", "priority", "created_at"),
        Index("ix_handoffs_conversation", "conversation_id", "id"),
        Index("uq_handoffs_open", "conversation_id", unique=True,
              sqlite_where=text("state IN ('waiting', 'claimed')"),
              postgresql_where=text("state IN ('waiting', 'claimed')")),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=False)
    reason = Column(String(24), nullable=False)  # a HandoffReason value
    priority = Column(Integer, nullable=False)  # 1 is the most urgent
    holds = Column(Boolean, nullable=False, default=True)  # the assistant is silent while open
    state = Column(String(16), nullable=False)  # waiting | claimed | resolved
    report_id = Column(Integer, ForeignKey("reports.id"), nullable=True)
    assigned_to = Column(Integer, ForeignKey("staff_accounts.id"), nullable=True)
    created_at = Column(DateTime, nullable=False)
    claimed_at = Column(DateTime, nullable=True)
    resolved_at = Column(DateTime, nullable=True)
    resolved_by = Column(String(64), nullable=True)  # a staff username, or "resident"
    updated_at = Column(DateTime, nullable=False)


class StaffAccount(Base):
    """A staff console user. `password_hash` is Argon2id; `failed_sign_ins` counts failures
    since the last success and `locked_until` holds the lockout they caused."""

    __tablename__ = "staff_accounts"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)
    role = Column(String(16), nullable=False)  # staff | supervisor
    active = Column(Boolean, nullable=False, default=True)
    failed_sign_ins = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime, nullable=True)
    last_sign_in_at = Column(DateTime, nullable=True)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)


class StaffNote(Base):
    """A private note on a conversation: staff only, never sent to the resident."""

    __tablename__ = "staff_notes"
    __table_args__ = (Index("ix_staff_notes_conversation", "conversation_id", "id"),)

    id = Column(Integer, primary_key=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=False)
    author = Column(String(64), nullable=False)
    text = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False)


class AuditEntry(Base):
    """Who saw or did what, when. Never the content itself (no message text, no number)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"), Index("ix_audit_log_conversation", "conversation_id", "at"))

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False)
    actor = Column(String(64), nullable=False)  # a staff username, or "system"
    action = Column(String(32), nullable=False)
    conversation_id = Column(Integer, nullable=True)  # no foreign key: the entry outlives a purge
    detail = Column(String(255), nullable=True)


class HandoffReason:
    EMERGENCY = "emergency"
    CRISIS = "crisis"
    REQUESTED = "requested"
    FALLBACK = "fallback"
    REPORT_REVIEW = "report_review"
    STAFF = "staff"  # a staff member took the conversation over from the console
    PRIORITY = {EMERGENCY: 1, CRISIS: 1, REPORT_REVIEW: 2, REQUESTED: 3, FALLBACK: 3, STAFF: 3}
    ALL = tuple(PRIORITY)


class HandoffState:
    WAITING = "waiting"
    CLAIMED = "claimed"
    RESOLVED = "resolved"
    OPEN = (WAITING, CLAIMED)

"""A conversation as staff read it: messages, private notes and handoff events in time order,
with personal data masked (the console) or redacted (exports) unless a person chooses to see it.

- masked: phone numbers keep their last four digits ("***-***-0142"), e-mail addresses and the
  names residents gave a form are hidden;
- redacted: the same, without the last four digits;
- revealed: everything as stored (the caller writes the audit entry).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Iterable, Mapping

from bot.identity import mask_phone
from bot.private_answers import PRIVATE_NAME_INTENT
from bot.storage.models import Conversation, Handoff, Message, StaffNote

# North American numbers in the ways people type them, and any "+" international number.
PHONE = re.compile(r"(?<![\w+])(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?!\w)"
                   r"|(?<![\w+])\+\d[\d\s().-]{7,18}\d(?!\w)")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
NAME = "[name]"

MASKED, REDACTED, REVEALED = "masked", "redacted", "revealed"


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # resident | assistant | staff | system | note | event
    text: str
    who: str = ""  # the staff member (replies, notes, events)
    intent: str | None = None  # what the assistant read a resident's message as
    confidence: float | None = None
    status: str = ""  # delivery status of an outbound message; "flagged: emergency" for a resident's
    media: int = 0
    private: bool = False  # a name given to a form: never shown unless revealed


def hide(text: str, level: str) -> str:
    if level == REVEALED:
        return text
    text = EMAIL.sub("[email]", text)
    if level == REDACTED:
        return PHONE.sub("[phone]", text)
    return PHONE.sub(lambda m: mask_phone(m.group(0)), text)


def contact(conversation: Conversation, level: str) -> str:
    if conversation.channel != "sms":
        return "web chat"
    if level == REVEALED:
        return conversation.address
    return "[phone]" if level == REDACTED else mask_phone(conversation.address)


def _message_entry(message: Message, replied_by: Mapping[int, str]) -> Entry:
    if message.direction == "in":
        return Entry(message.created_at, "resident", message.text, intent=message.intent,
                     confidence=message.confidence, status=safety_label(message.safety),
                     media=message.num_media or 0, private=message.intent == PRIVATE_NAME_INTENT)
    kind = message.author if message.author in ("assistant", "staff", "system") else "assistant"
    return Entry(message.created_at, kind, message.text, who=replied_by.get(message.id, ""), status=message.status)


def safety_label(event: str | None) -> str:
    """"flagged: emergency" (the 911/988 answer took over) or "safety event: possible crisis"."""
    if not event:
        return ""
    if event.startswith("possible_"):
        return f"safety event: possible {event.removeprefix('possible_')}"
    return f"flagged: {event}"


def _handoff_events(handoff: Handoff, names: Mapping[int, str]) -> Iterable[Entry]:
    yield Entry(handoff.created_at, "event", f"Handed to staff: {handoff.reason.replace('_', ' ')}")
    if handoff.claimed_at is not None:
        yield Entry(handoff.claimed_at, "event", "Claimed", who=names.get(handoff.assigned_to or 0, ""))
    if handoff.resolved_at is not None:
        by = handoff.resolved_by or ""
        text = "Resident went back to the assistant" if by == "resident" else "Resolved: back to the assistant"
        yield Entry(handoff.resolved_at, "event", text, who="" if by == "resident" else by)


def build(messages: Iterable[Message], notes: Iterable[StaffNote], handoffs: Iterable[Handoff],
          names: Mapping[int, str], replied_by: Mapping[int, str]) -> list[Entry]:
    """Everything in time order; at equal times messages come first (a handoff event recorded in
    the same second as the message that caused it reads after it)."""
    entries: list[tuple[datetime, int, int, Entry]] = []
    for message in messages:
        entries.append((message.created_at, 0, message.id, _message_entry(message, replied_by)))
    for handoff in handoffs:
        for event in _handoff_events(handoff, names):
            entries.append((event.at, 1, handoff.id, event))
    for note in notes:
        entries.append((note.created_at, 2, note.id, Entry(note.created_at, "note", note.text, who=note.author)))
    return [entry for *_, entry in sorted(entries, key=lambda item: item[:3])]


def shown(entries: Iterable[Entry], level: str) -> list[Entry]:
    """The entries with personal data hidden at `level` (notes are staff words: masked too, since
    staff paste numbers into them)."""
    out = []
    for entry in entries:
        if entry.private and level != REVEALED:
            out.append(replace(entry, text=NAME))
        else:
            out.append(replace(entry, text=hide(entry.text, level)))
    return out

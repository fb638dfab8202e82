"""One meeting as an .ics file, for the "add to calendar" link a resident gets.

Only what the department published is in it, never who signed up. The UID is stable per
meeting and SEQUENCE follows the meeting's version, so a calendar app that opens the file
again after the meeting moved updates the event instead of adding a second one.
"""
from __future__ import annotations

import hashlib
from datetime import timezone

import icalendar

from bot.storage.models import Meeting

UID_DOMAIN = "meetings.outreach-assistant"


def meeting_uid(meeting: Meeting) -> str:
    """Stable per meeting (row id plus a hash of its calendar identity), and opaque."""
    digest = hashlib.sha256(meeting.source_uid.encode()).hexdigest()[:12]
    return f"meeting-{meeting.id}-{digest}@{UID_DOMAIN}"


def _place(meeting: Meeting) -> str | None:
    parts = [part for part in (meeting.room, meeting.address) if part]
    if parts:
        return ", ".join(parts)
    return meeting.virtual_url or None


def meeting_ics(meeting: Meeting, department_name: str | None = None) -> bytes:
    """A VCALENDAR with one VEVENT: times in UTC, place, description."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//resident-outreach-assistant//meeting//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", meeting_uid(meeting))
    event.add("dtstamp", meeting.updated_at.replace(tzinfo=timezone.utc))
    event.add("dtstart", meeting.starts_at.replace(tzinfo=timezone.utc))
    event.add("dtend", meeting.ends_at.replace(tzinfo=timezone.utc))
    event.add("sequence", max(0, (meeting.version or 1) - 1))
    event.add("summary", meeting.title)
    place = _place(meeting)
    if place:
        event.add("location", place)
    if meeting.virtual_url:
        event.add("url", meeting.virtual_url)
    lines = [meeting.description or ""]
    if meeting.accessibility:
        lines.append(f"Accessibility: {meeting.accessibility}")
    if meeting.virtual_url and meeting.address:
        lines.append(f"Online: {meeting.virtual_url}")
    if department_name:
        lines.append(department_name)
    description = "\n\n".join(line.strip() for line in lines if line and line.strip())
    if description:
        event.add("description", description)
    event.add("status", "CANCELLED" if meeting.status == "cancelled" else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()

"""How a meeting reads in a text: "Sat Nov 28 10am Coffee with a Cop, Harbor Cafe".

Day and month names come from domain.yml (response `utter_meeting_words`, a `custom` table
per language), so every word a resident reads stays in one place. Times are shown in the
meeting's own timezone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from bot.storage.models import Meeting

WORDS_RESPONSE = "utter_meeting_words"
MAX_TITLE = 40
MAX_PLACE = 40

_EN = {
    "days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    "months": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "clock": "12h", "date_order": "md", "online": "online",
}


@dataclass(frozen=True)
class CalendarWords:
    days: tuple[str, ...]
    months: tuple[str, ...]
    clock: str  # 12h | 24h
    date_order: str  # md ("Nov 28") | dm ("28 nov")
    online: str

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> "CalendarWords":
        merged = {**_EN, **{k: v for k, v in table.items() if v}}
        days, months = tuple(merged["days"]), tuple(merged["months"])
        if len(days) != 7 or len(months) != 12:
            raise ValueError(f"{WORDS_RESPONSE} needs 7 day and 12 month names")
        return cls(days, months, str(merged["clock"]), str(merged["date_order"]), str(merged["online"]))


def local_start(meeting: Meeting) -> datetime:
    return meeting.starts_at.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(meeting.timezone))


def clock_text(moment: datetime, words: CalendarWords) -> str:
    if words.clock == "24h":
        return f"{moment.hour}:{moment.minute:02d}"
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"


def when_text(meeting: Meeting, words: CalendarWords) -> str:
    """'Sat Nov 28 10am' / 'sáb 28 nov 10:00'."""
    start = local_start(meeting)
    day, month = words.days[start.weekday()], words.months[start.month - 1]
    date = f"{month} {start.day}" if words.date_order == "md" else f"{start.day} {month}"
    return f"{day} {date} {clock_text(start, words)}"


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip(" ,") + "..."


def short_title(meeting: Meeting) -> str:
    return _short(meeting.title, MAX_TITLE)


def place_text(meeting: Meeting, words: CalendarWords) -> str:
    """The first line of the address (the city is implied), or "online"."""
    if meeting.address:
        first = meeting.address.split(",")[0]
        return _short(f"{first}, {meeting.room}" if meeting.room else first, MAX_PLACE)
    return words.online if meeting.virtual_url else ""


def meeting_line(meeting: Meeting, words: CalendarWords) -> str:
    """One line of a meeting list: when, what, where."""
    place = place_text(meeting, words)
    title = short_title(meeting)
    return f"{when_text(meeting, words)} {title}, {place}" if place else f"{when_text(meeting, words)} {title}"


def meeting_values(meeting: Meeting, words: CalendarWords) -> dict[str, str]:
    """Placeholders for responses about one meeting: {meeting_title} {meeting_when} {meeting_place}."""
    place = meeting.address or ""
    if meeting.room:
        place = f"{place}, {meeting.room}" if place else meeting.room
    place = _short(place, 80)
    if not place and meeting.virtual_url:
        place = meeting.virtual_url  # a link is never shortened: it must work
    return {
        "meeting_title": _short(meeting.title, MAX_TITLE),
        "meeting_when": when_text(meeting, words),
        "meeting_place": place or words.online,
    }

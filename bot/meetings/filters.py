"""What a resident's message says about which meetings they want.

NLU gives the meeting type, ZIP code and language entities; the day ("this week",
"saturday", "mañana") and the neighborhood are read here from the text, in English and
Spanish, because they are open-ended and better matched against the calendar itself.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

from bot.meetings.store import MeetingFilter

WEEKDAYS = {
    "monday": 0, "mon": 0, "lunes": 0,
    "tuesday": 1, "tue": 1, "tues": 1, "martes": 1,
    "wednesday": 2, "wed": 2, "miercoles": 2,
    "thursday": 3, "thu": 3, "thurs": 3, "jueves": 3,
    "friday": 4, "fri": 4, "viernes": 4,
    "saturday": 5, "sat": 5, "sabado": 5,
    "sunday": 6, "sun": 6, "domingo": 6,
}
SPANISH_WORDS = ("in spanish", "en espanol", "spanish", "espanol", "en castellano")
KINDS = ("town_hall", "neighborhood_watch", "crime_prevention_workshop", "citizen_academy",
         "youth_program", "coffee_with_a_cop")


def fold(text: str) -> str:
    """Lowercase, no accents, single spaces: 'Sábado' -> 'sabado'."""
    stripped = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in stripped if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]", " ", stripped.lower()).split())


def _has(folded: str, phrase: str) -> bool:
    return re.search(rf"\b{re.escape(phrase)}\b", folded) is not None


def day_range(text: str, today: date) -> tuple[date, date] | None:
    """[first, last] local days the message asks about, or None when it names no day."""
    folded = fold(text)
    if any(_has(folded, p) for p in ("today", "tonight", "hoy", "esta noche", "esta tarde")):
        return today, today
    if _has(folded, "pasado manana"):
        return today + timedelta(days=2), today + timedelta(days=2)
    without_morning = re.sub(r"\b(en|por|de) la manana\b", " ", folded)  # "in the morning"
    if any(_has(folded, p) for p in ("tomorrow", "tmrw", "tmr")) or _has(without_morning, "manana"):
        return today + timedelta(days=1), today + timedelta(days=1)
    if any(_has(folded, p) for p in ("next week", "proxima semana", "semana que viene", "la otra semana")):
        start = today + timedelta(days=7 - today.weekday())
        return start, start + timedelta(days=6)
    if any(_has(folded, p) for p in ("this weekend", "weekend", "fin de semana", "finde")):
        saturday = today + timedelta(days=(5 - today.weekday()) % 7)
        if today.weekday() == 6:
            return today, today
        return saturday, saturday + timedelta(days=1)
    if any(_has(folded, p) for p in ("this week", "esta semana")):
        return today, today + timedelta(days=6 - today.weekday())
    for word in folded.split():
        if word in WEEKDAYS:
            ahead = (WEEKDAYS[word] - today.weekday()) % 7
            said_next = any(_has(folded, p) for p in (f"next {word}", f"proximo {word}", f"{word} que viene"))
            if said_next and ahead == 0:
                ahead = 7
            day = today + timedelta(days=ahead)
            return day, day
    return None


def neighborhood_in(text: str, neighborhoods: Iterable[str]) -> str | None:
    """The calendar neighborhood the message names ('the harbor district' -> 'Harbor District')."""
    folded = fold(text)
    best = None
    for name in neighborhoods:
        candidate = fold(name)
        core = re.sub(r"\b(district|neighborhood|area|barrio)\b", "", candidate).strip()
        if (candidate and _has(folded, candidate)) or (len(core) >= 4 and _has(folded, core)):
            if best is None or len(name) > len(best):
                best = name
    return best


def wants_spanish(text: str) -> bool:
    folded = fold(text)
    return any(_has(folded, phrase) for phrase in SPANISH_WORDS)


def meeting_filter(text: str, kinds: Sequence[str], zipcode: str | None, language_entity: str | None,
                   neighborhoods: Iterable[str], now_utc: datetime, tz: str) -> MeetingFilter:
    """Everything the message says, as a filter on upcoming meetings."""
    zone = ZoneInfo(tz)
    today = now_utc.replace(tzinfo=timezone.utc).astimezone(zone).date()
    after = before = None
    days = day_range(text, today)
    if days is not None:
        first, last = days
        after = _utc(datetime.combine(first, time.min, zone))
        before = _utc(datetime.combine(last + timedelta(days=1), time.min, zone))
    language = "es" if (language_entity == "es" or wants_spanish(text)) else None
    return MeetingFilter(
        kinds=tuple(k for k in dict.fromkeys(kinds) if k in KINDS),
        zipcode=zipcode if zipcode and re.fullmatch(r"\d{5}", zipcode) else None,
        neighborhood=neighborhood_in(text, neighborhoods),
        language=language,
        starts_after=after,
        starts_before=before,
    )


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)

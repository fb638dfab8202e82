"""When a non-emergency report happened, read from a resident's English or Spanish text.

Rule-based (patterns and small word lists), like places.py, so staff can see why a time was
read the way it was. Times are worked out on the department's wall clock with zoneinfo, so
"last night" and "yesterday at 5pm" stay right across daylight-saving changes, and are returned
in UTC.

Never in the future, by these rules:
- a day in the past or today, with a time of day still to come ("tonight" said at 8 pm, "this
  morning at 9" said at 7 am), is *clamped* to now and marked approximate;
- a time of day with no day ("at 3pm", "around 11") is the most recent one that has passed;
- a weekday name is the most recent past one (said on a Monday, "monday" is a week ago: the
  resident would have said "today");
- a date with no year ("11/20", "20 de noviembre") is the most recent past one (last year's when
  this year's is still to come);
- a future day the resident named outright is *rejected* (None): "tomorrow", "mañana" alone, or
  a date with a year that has not come yet. A report is about something that happened.

An hour without am/pm ("at 3", "ayer a las 5") is the later of the two that has passed, marked
approximate; a day part settles it ("a las 5 de la tarde", "last night at 11" is 11 PM, "last
night at 2" is 2 AM the next day). A day with no time of day is its midday, approximate.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from bot.reports.places import fold_in_place

NUMBER_WORDS: dict[str, int] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "fourty": 40, "forty-five": 45, "couple": 2, "a couple": 2,
    "a couple of": 2, "couple of": 2, "few": 3, "a few": 3,
    "un": 1, "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "quince": 15,
    "veinte": 20, "treinta": 30, "un par de": 2, "unos cuantos": 3, "unas cuantas": 3,
}
_NUMBER = r"\d{1,3}|" + "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))
CLOCK_WORDS = {k: v for k, v in NUMBER_WORDS.items() if 1 <= v <= 12 and " " not in k and k not in
               {"a", "an", "un", "couple", "few"}}
_CLOCK_NUMBER = r"\d{1,2}|" + "|".join(sorted(CLOCK_WORDS, key=len, reverse=True))

WEEKDAYS: dict[str, int] = {
    "monday": 0, "lunes": 0, "tuesday": 1, "tues": 1, "tue": 1, "tuesdy": 1, "martes": 1,
    "wednesday": 2, "wed": 2, "weds": 2, "wensday": 2, "wednsday": 2, "wendsday": 2,
    "wednesdy": 2, "miercoles": 2, "thursday": 3, "thurs": 3, "thur": 3, "thu": 3, "thursdy": 3,
    "jueves": 3, "friday": 4, "fri": 4, "fridy": 4, "viernes": 4, "saturday": 5, "saturdy": 5,
    "sabado": 5, "sunday": 6, "sundy": 6, "domingo": 6,
}
MONTHS: dict[str, int] = {
    "jan": 1, "january": 1, "enero": 1, "ene": 1, "feb": 2, "february": 2, "febrero": 2,
    "mar": 3, "march": 3, "marzo": 3, "apr": 4, "april": 4, "abril": 4, "abr": 4, "may": 5,
    "mayo": 5, "jun": 6, "june": 6, "junio": 6, "jul": 7, "july": 7, "julio": 7, "aug": 8,
    "august": 8, "agosto": 8, "sep": 9, "sept": 9, "september": 9, "septiembre": 9,
    "setiembre": 9, "oct": 10, "october": 10, "octubre": 10, "nov": 11, "november": 11,
    "noviembre": 11, "dec": 12, "december": 12, "diciembre": 12, "dic": 12,
}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))

# Day part -> the hour used when no clock time is given.
PART_HOURS = {"early": 3, "morning": 9, "afternoon": 15, "evening": 19, "night": 22, "night_early": 3}

_APPROX = r"(?:around|about|approx(?:imately)?|like|roughly|maybe|como|alrededor de|cerca de|aproximadamente|mas o menos|tipo)"



def _blank(text: str, pattern: str) -> str:
    """Blank out matches with spaces (same length), so positions still line up."""
    return re.sub(pattern, lambda m: " " * len(m.group(0)), text)


@dataclass(frozen=True)
class When:
    """`at` is an aware UTC datetime, never after the `now` it was parsed with; `text` the words
    that were understood; `approximate` is True unless the resident gave an exact clock time
    (or said "right now"): the form should confirm an approximate time, not assert it."""

    at: datetime
    text: str
    approximate: bool

    def local(self, tz: str) -> datetime:
        return self.at.astimezone(ZoneInfo(tz))

    def describe(self, tz: str, language: str = "en") -> str:
        """Short, GSM-7 only (no accents): "Mon Nov 23, around 5:00 PM" / "lun 23 nov, aprox. 5:00 PM"."""
        local = self.local(tz)
        clock = local.strftime("%I:%M %p").lstrip("0")
        if language == "es":
            day = ("lun", "mar", "mie", "jue", "vie", "sab", "dom")[local.weekday()]
            month = ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov",
                     "dic")[local.month - 1]
            return f"{day} {local.day} {month}, {'aprox. ' if self.approximate else ''}{clock}"
        return f"{local.strftime('%a %b')} {local.day}, {'around ' if self.approximate else ''}{clock}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (a Rasa slot value)."""
        return {"at": self.at.isoformat(), "text": self.text, "approximate": self.approximate}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "When":
        return cls(datetime.fromisoformat(str(data["at"])), str(data.get("text", "")), bool(data.get("approximate")))


class _Reading:
    """What the text says, piece by piece, before it is turned into one instant."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.spans: list[tuple[int, int]] = []
        self.anchor: date | None = None          # the local day named, if any
        self.anchor_rank = 0                      # how specific the named day is
        self.anchor_is_today = False
        self.part: str | None = None             # morning / afternoon / evening / night / early
        self.clock: tuple[int, int, str | None] | None = None   # hour, minute, "am"/"pm"/None
        self.approximate = False
        self.exact_instant: datetime | None = None   # "2 hours ago", "right now"
        self.keep_wall_time = False                   # "3 days ago": at this time of day
        self.future_day = False
        self.year_given_future = False

    def take(self, match: re.Match[str], group: int | str = 0) -> None:
        self.spans.append(match.span(group))

    def set_anchor(self, day: date, rank: int, is_today: bool = False) -> None:
        if rank > self.anchor_rank:
            self.anchor, self.anchor_rank, self.anchor_is_today = day, rank, is_today

    def understood(self, original: str) -> str:
        merged: list[list[int]] = []
        for start, end in sorted(self.spans):
            if merged and start <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        return " ".join(" ".join(original[start:end].split()) for start, end in merged)


def _number(word: str) -> float:
    word = " ".join(word.split())
    if word in {"media", "half"}:
        return 0.5
    return float(word) if word.isdigit() else float(NUMBER_WORDS[word])


def _localize(day: date, hour: int, minute: int, zone: ZoneInfo, now: datetime) -> tuple[datetime, bool]:
    """Wall-clock time on `day` in `zone`, as UTC, and whether it was odd (DST). A time that
    does not exist (spring forward, 2:30 AM) moves forward by the gap; a time that happens
    twice (fall back, 1:30 AM) is the later one if that has passed, else the earlier."""
    naive = datetime.combine(day, time(hour, minute))
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(timezone.utc), False
    if first.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) != naive:
        return first.astimezone(timezone.utc), True          # in the gap
    later = second.astimezone(timezone.utc)
    return (later if later <= now else first.astimezone(timezone.utc)), True


def _hour_options(hour: int, ampm: str | None, part: str | None) -> tuple[list[tuple[int, int]], bool]:
    """(day offset from the named day, 24h hour) candidates, latest first, and whether am/pm
    was a guess. Night hours after midnight belong to the next calendar day."""
    if part == "night_early":
        return [(1, hour % 12 + (12 if ampm == "pm" else 0))], False
    if hour > 12 or hour == 0:
        return [(0, hour % 24)], False
    if ampm:
        h24 = hour % 12 + (12 if ampm == "pm" else 0)
        next_day = part in {"night", "early"} and ampm == "am" and h24 < 6
        return [(1 if next_day else 0, h24)], False
    if part in {"morning", "early"}:
        return [(0, hour % 12 if part == "early" or hour != 12 else 12)], False
    if part in {"afternoon", "evening"}:
        return [(0, hour if hour == 12 else hour + 12)], False
    if part == "night":
        if hour == 12:
            return [(1, 0)], False
        return ([(0, hour + 12)] if hour >= 6 else [(1, hour)]), False
    return [(0, hour if hour == 12 else hour + 12), (0, hour % 12)], True


def parse_when(text: str, now: datetime, tz: str, language: str | None = None) -> When | None:
    """When something happened, or None when the text names no time (or only a future one).
    `now` is aware UTC (a naive value is read as UTC, the project's storage convention); `tz`
    the department's zone. `language="es"` reads 3/4 as 3 April (day first); otherwise
    month first, unless only day-first makes sense (20/11)."""
    now = now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now.astimezone(timezone.utc)
    zone = ZoneInfo(tz)
    now_local = now.astimezone(zone)
    today = now_local.date()
    original = unicodedata.normalize("NFC", text or "")
    folded = fold_in_place(original).replace("’", "'")
    # Greetings name a part of the day without meaning it; "a.m." -> "  am" (same length, so
    # what was understood can be cut out of the original text).
    folded = _blank(folded, r"\b(?:good (?:morning|afternoon|evening|night)|buen(?:os|as) (?:dias|tardes|noches))\b")
    folded = re.sub(r"\b([ap])\.\s?m\.?", lambda m: " " * (len(m.group(0)) - 2) + f"{m.group(1)}m", folded)
    reading = _Reading(folded)

    _read_relative(reading, folded, now, today)
    _read_days(reading, folded, today, language)
    _read_clock(reading, folded)
    _read_parts(reading, folded)

    if reading.year_given_future:
        return None
    vague_today = reading.anchor_is_today and reading.clock is None and reading.part is None
    if reading.exact_instant is not None and (reading.anchor is None or vague_today):
        return When(min(reading.exact_instant, now), reading.understood(original), reading.approximate)
    if reading.anchor is None and reading.future_day:
        return None
    if reading.anchor is None and reading.clock is None and reading.part is None:
        return None
    at, approximate = _resolve(reading, now, now_local, zone, today)
    return When(at, reading.understood(original), approximate or reading.approximate)


def _read_relative(reading: _Reading, text: str, now: datetime, today: date) -> None:
    """"2 hours ago", "hace 2 horas", "right now", "a while ago", "3 days ago"."""
    for match in re.finditer(r"\b(?:right now|just now|ahora mismo|ahorita|en este momento|rn|"
                             r"happening now|(?<!\bpor )ahora)\b", text):
        reading.take(match)
        if reading.exact_instant is None:
            reading.exact_instant = now
    patterns = [
        rf"\b(?:{_APPROX}\s+)?(?P<n>{_NUMBER}|half an|half|a half)\s*(?P<unit>minutes?|mins?|hours?|hrs?|"
        rf"days?|weeks?)\s+ago\b",
        rf"\b(?:hace|ase)\s+(?:{_APPROX}\s+)?(?:unos\s+|unas\s+)?(?P<n>{_NUMBER}|media)\s*"
        rf"(?P<unit>minutos?|mins?|horas?|hrs?|dias?|semanas?)\b",
    ]
    for pattern in patterns:
        for match in re.finditer(pattern, text):
            count = _number(match.group("n").replace("half an", "half").replace("a half", "half"))
            unit = match.group("unit")
            reading.take(match)
            if unit.startswith(("min",)):
                reading.exact_instant = now - timedelta(minutes=count)
                reading.approximate = True
            elif unit.startswith(("hour", "hr", "hora")):
                reading.exact_instant = now - timedelta(hours=count)
                reading.approximate = True
            else:   # days and weeks: a day, with the time of day if one is given
                days = int(count * (7 if unit.startswith(("week", "semana")) else 1))
                reading.set_anchor(today - timedelta(days=days), 3)
                reading.keep_wall_time = True
    for match in re.finditer(r"\b(?:earlier today|earlier|a (?:little )?while ago|hace (?:un )?rato|"
                             r"hace ratito|mas temprano|hoy temprano)\b", text):
        reading.take(match)
        reading.approximate = True
        if reading.exact_instant is None or reading.exact_instant == now:
            reading.exact_instant = now - timedelta(hours=1)


def _read_days(reading: _Reading, text: str, today: date, language: str | None) -> None:
    """Named days: today, yesterday, last night, weekdays, dates."""
    simple = [
        (r"\b(?:(?:the )?day before yesterday|anteayer|antier|antes de ayer)\b", 2, None, 4),
        (r"\b(?:anteanoche|antes de anoche)\b", 2, "night", 4),
        (r"\b(?:last night|last nite|lastnight|anoche|ayer (?:en|por|a|de) (?:la )?noche)\b", 1, "night", 4),
        (r"\b(?:yesterday|yesterdy|yesteday|yestarday|yesterda|ysterday|yday|ayer)\b", 1, None, 4),
        (r"\b(?:tonight|tonite|2nite|esta noche|hoy (?:en|por) la noche)\b", 0, "night", 2),
        (r"\b(?:this morning|this mornin|esta manana|hoy (?:en|por) la manana)\b", 0, "morning", 2),
        (r"\b(?:this afternoon|this aftrnoon|this afternon|esta tarde|hoy (?:en|por) la tarde)\b", 0, "afternoon", 2),
        (r"\b(?:this evening|this eve)\b", 0, "evening", 2),
        (r"\b(?:today|todays|tday|2day|hoy)\b", 0, None, 1),
        (r"\b(?:last week|la semana pasada|la otra semana)\b", 7, None, 1),
    ]
    for pattern, days_back, part, rank in simple:
        for match in re.finditer(pattern, text):
            reading.take(match)
            reading.set_anchor(today - timedelta(days=days_back), rank, is_today=days_back == 0)
            if part and reading.part is None:
                reading.part = part
            if days_back >= 7:
                reading.approximate = True
    for match in re.finditer(r"\b(?:(?:last|this past|this) weekend|el fin de semana(?: pasado)?)\b", text):
        reading.take(match)
        back = (today.weekday() - 5) % 7 or 7
        reading.set_anchor(today - timedelta(days=back), 2)
        reading.approximate = True
    for match in re.finditer(rf"\b(?:(?:last|this past|past|on|el|este|el pasado|this)\s+)?(?P<day>{_WEEKDAY})"
                             rf"(?:\s+pasado)?\b", text):
        weekday = WEEKDAYS[match.group("day")]
        reading.take(match)
        back = (today.weekday() - weekday) % 7 or 7
        reading.set_anchor(today - timedelta(days=back), 5)
    # Tomorrow: a report is about the past. "mañana" alone is tomorrow; "la/esta mañana" is morning.
    if re.search(r"\b(?:tomorrow|tmrw|tomorow|tommorow|(?<!la )(?<!esta )(?<!de )manana)\b", text):
        reading.future_day = True
    _read_dates(reading, text, today, language)


def _date_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _past_date(reading: _Reading, today: date, month: int, day: int, year: str | None) -> date | None:
    if year:
        full = int(year) + (2000 if len(year) == 2 else 0)
        found = _date_or_none(full, month, day)
        if found and found > today:
            reading.year_given_future = True
            return None
        return found
    found = _date_or_none(today.year, month, day)
    if found and found > today:
        found = _date_or_none(today.year - 1, month, day)
    return found


def _read_dates(reading: _Reading, text: str, today: date, language: str | None) -> None:
    # 11/20, 11/20/26, 11-20-2026 (a dash only with a year: "24-7" is not a date)
    for match in re.finditer(r"(?<![\d/:-])(\d{1,2})(?:/(\d{1,2})(?:/(\d{4}|\d{2}))?|-(\d{1,2})-(\d{4}|\d{2}))"
                             r"(?![\d/:-])", text):
        first, second = int(match.group(1)), int(match.group(2) or match.group(4))
        year = match.group(3) or match.group(5)
        day_first = language == "es" or first > 12
        month, day = (second, first) if day_first else (first, second)
        found = _past_date(reading, today, month, day, year)
        if found:
            reading.take(match)
            reading.set_anchor(found, 6)
    month_day = [
        rf"\b(?P<mon>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>\d{{4}})\b)?",
        rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+|de\s+)?(?P<mon>{_MONTH})\b"
        rf"(?:,?\s+(?:de\s+|del\s+)?(?P<year>\d{{4}})\b)?",
    ]
    for pattern in month_day:
        for match in re.finditer(pattern, text):
            found = _past_date(reading, today, MONTHS[match.group("mon")], int(match.group("day")),
                               match.group("year"))
            if found:
                reading.take(match)
                reading.set_anchor(found, 6)
    for match in re.finditer(r"\b(?:on )?the (\d{1,2})(?:st|nd|rd|th)\b|\bel dia (\d{1,2})\b", text):
        day = int(match.group(1) or match.group(2))
        found = _date_or_none(today.year, today.month, day)
        if found and found > today:
            previous = today.replace(day=1) - timedelta(days=1)
            found = _date_or_none(previous.year, previous.month, day)
        if found:
            reading.take(match)
            reading.set_anchor(found, 6)


# Words that may follow a bare "around 3" when it is a time of day.
_TIME_FOLLOWERS = (
    r"and|or|when|then|i|we|he|she|they|someone|somebody|my|our|the|last|yesterday|today|this|tonight|"
    r"on|in|at|y|o|cuando|yo|alguien|mi|ayer|hoy|anoche|esta|este|el|la|de|en|por|me|nos|se|le|les"
)


def _clock_value(word: str) -> int:
    return int(word) if word.isdigit() else CLOCK_WORDS[word]


def _read_clock(reading: _Reading, text: str) -> None:
    """"15:30", "3pm", "at 3", "a las 3", "around 3 am", "3ish", "noon", "medianoche"."""
    not_a_time = r"(?!\s*(?:th|st|nd|rd|hours?|hrs?|minutes?|mins?|horas?|minutos?|days?|dias?|weeks?|semanas?|" \
                 r"de la (?:calle|avenida)|[/-]\d|\d)|\s+(?:[nsew]\s+)?[a-z]+\s+(?:st|street|ave|avenue|blvd|rd|road|" \
                 r"dr|drive|ln|lane|ct|pl|way|hwy)\b)"
    patterns = [
        # 15:30, 3:30 pm, 3:30p
        (rf"\b(?:(?P<approx>{_APPROX})\s+)?(?:(?:at|a las|a la)\s+)?(?P<h>\d{{1,2}}):(?P<m>[0-5]\d)"
         rf"(?:\s*(?P<ap>am|pm)\b|(?P<ap1>[ap])\b)?", True),
        # 3pm, 3 pm, 3p
        (rf"\b(?:(?P<approx>{_APPROX})\s+)?(?:(?:at|a las|a la)\s+)?(?P<h>{_CLOCK_NUMBER})"
         rf"(?:\s*(?P<ap>am|pm)\b|(?P<ap1>[ap])\b)", True),
        # at 3, a las 3, around at 3, 3 y media
        (rf"\b(?:(?P<approx>{_APPROX})\s+)?(?:at|a las|a la)\s+(?P<h>{_CLOCK_NUMBER})"
         rf"(?P<half>\s+y\s+media|\s+y\s+cuarto|\s+thirty)?{not_a_time}\b", False),
        # around 3: without "at" only where a time can end ("around 2 cars" is not 2 o'clock)
        (rf"\b(?P<approx>{_APPROX})\s+(?P<h>{_CLOCK_NUMBER})(?P<half>\s+y\s+media|\s+y\s+cuarto)?"
         rf"(?=\s*$|\s*[,.;:!?)]|\s+(?:{_TIME_FOLLOWERS})\b)", False),
        # 3 in the morning, las 3 de la tarde (the day part is read by _read_parts)
        (rf"\b(?:(?P<approx>{_APPROX})\s+)?(?:(?:at|a las|a la)\s+)?(?P<h>{_CLOCK_NUMBER})(?=\s+(?:in the|de la|en la|"
         rf"at)\s+(?:morning|afternoon|evening|night|manana|tarde|noche|madrugada)\b)", False),
        # 3ish, 3 o'clock
        (rf"\b(?P<h>{_CLOCK_NUMBER})(?:\s*ish|\s*o'?clock)\b", False),
    ]
    for pattern, exact in patterns:
        for match in re.finditer(pattern, text):
            if match.group("h") == "once" and "las" not in match.group(0):
                continue   # "at once" is not eleven o'clock
            hour = _clock_value(match.group("h"))
            minute = int(match.groupdict().get("m") or 0)
            half = (match.groupdict().get("half") or "").strip()
            minute = 30 if half in {"y media", "thirty"} else 15 if half == "y cuarto" else minute
            ap = match.groupdict().get("ap") or (match.groupdict().get("ap1") and match.group("ap1") + "m")
            if hour > 23 or (ap and not 1 <= hour <= 12):
                continue
            if reading.clock is None:
                reading.clock = (hour, minute, ap)
                reading.take(match)
                if match.groupdict().get("approx") or "ish" in match.group(0):
                    reading.approximate = True
            break
        if reading.clock is not None:
            break
    for match in re.finditer(r"\b(?:(?P<approx>" + _APPROX + r")\s+(?:(?:at|a)\s+)?)?(?:at\s+|a\s+)?(?:el\s+)?"
                             r"(?P<w>noon|midday|mediodia|medio dia|midnight|medianoche|media noche)\b", text):
        if reading.clock is None:
            word = match.group("w")
            reading.clock = (12, 0, "pm") if word in {"noon", "midday", "mediodia", "medio dia"} else (12, 0, "am")
            if reading.clock[2] == "am":
                reading.part = reading.part or "night"
            reading.take(match)
            reading.approximate = reading.approximate or bool(match.group("approx"))


def _read_parts(reading: _Reading, text: str) -> None:
    patterns = [
        (r"\b(?:(?:de|en|por) la )?madrugada\b|\bearly (?:this |in the )?morning\b|\bwee hours\b", "early"),
        (r"\b(?:in the )?(?:morning|mornin|morning)\b|\b(?:de|en|por) la manana\b", "morning"),
        (r"\b(?:in the )?(?:afternoon|afternon|aftrnoon)\b|\b(?:de|en|por) la tarde\b", "afternoon"),
        (r"\b(?:in the )?evening\b", "evening"),
        (r"\b(?:at |in the |last |during the )?(?:night|nite|overnight)\b|\b(?:de|en|por) la noche\b|\bde noche\b",
         "night"),
    ]
    for pattern, part in patterns:
        match = re.search(pattern, text)
        if match:
            reading.take(match)
            if reading.part == "night" and part in {"early", "morning"}:
                reading.part = "night_early"   # "anoche en la madrugada": after midnight
            elif reading.part is None or part == "early":
                reading.part = part
            return


def _resolve(reading: _Reading, now: datetime, now_local: datetime, zone: ZoneInfo,
             today: date) -> tuple[datetime, bool]:
    approximate = False
    if reading.clock is not None:
        hour, minute, ampm = reading.clock
        options, approximate = _hour_options(hour, ampm, reading.part)
    elif reading.part is not None:
        hour, minute = PART_HOURS[reading.part], 0
        options, approximate = [(1 if reading.part == "night_early" else 0, hour)], True
    else:
        options, minute, approximate = [], 0, True

    if reading.anchor is None:
        # A time of day alone: the most recent one that has passed.
        candidates = []
        for back in range(0, 3):
            for offset, hour in options:
                at, odd = _localize(today - timedelta(days=back) + timedelta(days=offset), hour, minute, zone, now)
                if at <= now:
                    candidates.append((at, odd))
        at, odd = max(candidates)
        return at, approximate or odd or reading.part is not None and reading.clock is None

    if not options:
        if reading.keep_wall_time:
            options, minute = [(0, now_local.hour)], now_local.minute
        else:
            options = [(0, 12)]   # a day and nothing more: midday, approximate
    results = [_localize(reading.anchor + timedelta(days=offset), hour, minute, zone, now) for offset, hour in options]
    past = [result for result in results if result[0] <= now]
    if past:
        at, odd = max(past)
        return at, approximate or odd
    return now, True   # clamped: a time still to come on a day that has begun

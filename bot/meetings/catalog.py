"""The department's meetings calendar, imported into the `meetings` table.

Staff keep meetings in the calendar they already use; this reads its iCalendar export (a
file or an http(s) URL) or a small YAML file, expands recurring events over a window, and
brings the table in line with it. Re-importing is safe: rows are matched by `source_uid`,
unchanged ones are left alone, and `version` goes up only when what a registered resident
relies on changes (time, place, called off), because another part texts them once per version.
Rows are never deleted (sign-ups point at them) and `seats_taken` is never written here.

`python -m bot.meetings.catalog [SOURCE]` imports SOURCE, else MEETINGS_CALENDAR, else the
generated demo calendar.

iCalendar properties read (per VEVENT):

    SUMMARY                 title (required)
    CATEGORIES, X-MEETING-TYPE
                            kind: a meeting type ("town_hall") or words that name one
                            ("Town Hall", "Vigilancia vecinal"); else inferred from SUMMARY;
                            events of no known type are skipped
    DTSTART / DTEND / DURATION
                            start and end; TZID or UTC as given, floating and all-day times
                            in the department's timezone; no end: one hour
    LOCATION                address (an http(s) LOCATION is taken as the online link);
                            a trailing 5-digit ZIP code becomes `zipcode`
    X-ROOM                  room
    URL, CONFERENCE         online link (http/https only)
    X-NEIGHBORHOOD          neighborhood
    X-ZIPCODE               zipcode (wins over the one in LOCATION)
    X-CAPACITY              seats; absent: no limit
    X-LANGUAGES             "en,es"; absent: the department's first language
    X-ACCESSIBILITY         accessibility notes
    DESCRIPTION             description
    STATUS:CANCELLED        called off
    CLASS:PRIVATE/CONFIDENTIAL
                            skipped: not a public meeting

An overridden occurrence (RECURRENCE-ID) that leaves out CATEGORIES or an X- property keeps
the series' value: small calendar tools write only what changed.

The YAML format (a file ending in .yml or .yaml):

    timezone: America/Los_Angeles      # optional; default: the department's timezone
    meetings:                          # (a bare list of meetings works too)
      - id: coffee-harbor-cafe         # required, stable: matches the row on re-import
        title: Coffee with a Cop       # required
        kind: coffee_with_a_cop        # optional: inferred from the title like iCalendar
        starts: 2026-12-02 09:00       # required, local time (in `timezone`)
        ends: 2026-12-02 10:00         # or duration_minutes: 60 (default 60)
        repeat: weekly                 # optional; then until: 2027-03-31 and
        except: [2026-12-23]           #   except (dates without a meeting), both optional
        timezone: America/Denver       # optional, this meeting only
        address: Harbor Cafe, 118 Front St, Port Alder, OR 97201
        room: Back room
        url: https://meet.example/abc  # online link
        neighborhood: Old Harbor
        zipcode: "97201"
        capacity: 30
        languages: [en, es]            # or "en,es"
        accessibility: Step-free entrance
        description: Talk with your beat officers.
        status: cancelled              # optional; default scheduled

Each YAML meeting becomes a VEVENT with the properties above (a weekly RRULE for `repeat`),
so both formats go through the same reading and matching.
"""
from __future__ import annotations

import argparse
import hashlib
import logging
import re
import sys
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events
import requests
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.meetings.filters import KINDS, fold
from bot.storage.database import Database
from bot.storage.models import Meeting

log = logging.getLogger(__name__)

WINDOW_DAYS = 90
FETCH_TIMEOUT = 15.0
MAX_CALENDAR_BYTES = 5 * 1024 * 1024
DEFAULT_DURATION = timedelta(hours=1)
SCHEDULED, CANCELLED = "scheduled", "cancelled"
# A change to one of these is news to a registered resident: the version goes up.
VERSIONED_FIELDS = ("starts_at", "ends_at", "address", "room", "virtual_url", "status")
# Our own properties, which an overridden occurrence inherits from its series when it leaves them out.
INHERITED = ("CATEGORIES", "X-MEETING-TYPE", "X-ROOM", "X-NEIGHBORHOOD", "X-ZIPCODE", "X-CAPACITY",
             "X-LANGUAGES", "X-ACCESSIBILITY")

# Words that name a meeting type, English and Spanish, folded (no accents, lowercase).
# The first type with a match wins, so the specific names come before "workshop".
KIND_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("coffee_with_a_cop", ("coffee with a cop", "coffee with the cops", "coffee with cops",
                           "cafe con un policia", "cafe con la policia", "cafe con policias",
                           "cafe con un oficial")),
    ("town_hall", ("town hall", "townhall", "community forum", "asamblea", "cabildo abierto",
                   "foro comunitario", "reunion comunitaria", "reunion del distrito")),
    ("neighborhood_watch", ("neighborhood watch", "neighbourhood watch", "block watch",
                            "vigilancia vecinal", "vigilancia de vecindario", "vecinos vigilantes")),
    ("citizen_academy", ("citizen academy", "citizens academy", "citizen s academy", "citizens police academy",
                         "academy", "academia")),
    ("youth_program", ("youth", "teen", "teens", "kids", "juvenil", "juveniles", "jovenes", "joven",
                       "ninos", "adolescentes", "explorers")),
    ("crime_prevention_workshop", ("workshop", "prevention", "crime prevention", "taller", "talleres",
                                   "prevencion", "seminar", "seminario")),
)

_ZIP_AT_END = re.compile(r"\b(\d{5})(?:-\d{4})?(?:\s*,?\s*(?:usa|us|united states))?\s*$", re.IGNORECASE)
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[a-z]{2})?$")


class CalendarError(Exception):
    """The calendar could not be read or makes no sense; nothing was imported."""


class CalendarFetchError(CalendarError):
    """The calendar URL did not answer with a calendar (network error, HTTP error, too big)."""


@dataclass(frozen=True)
class CatalogEntry:
    """One meeting occurrence as the calendar has it, already in the table's terms."""

    source_uid: str
    title: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    address: str | None
    room: str | None
    virtual_url: str | None
    neighborhood: str | None
    zipcode: str | None
    capacity: int | None
    languages: str
    accessibility: str | None
    description: str | None
    status: str


ENTRY_FIELDS = tuple(f.name for f in fields(CatalogEntry) if f.name != "source_uid")


@dataclass
class ImportSummary:
    """Counts only: logs and the command line print this, never what a meeting says."""

    created: int = 0
    updated: int = 0  # every row changed, including the two below
    moved: int = 0  # time or place changed (version + 1)
    called_off: int = 0  # STATUS:CANCELLED in the calendar (version + 1)
    cancelled_missing: int = 0  # future meeting no longer in the calendar (version + 1)
    unchanged: int = 0
    skipped: int = 0  # no known type, no title, private, or called off before it was ever imported

    def __str__(self) -> str:
        return (f"created {self.created}, updated {self.updated} (moved {self.moved}, "
                f"called off {self.called_off}), cancelled as missing {self.cancelled_missing}, "
                f"unchanged {self.unchanged}, skipped {self.skipped}")


# -- Reading a source ----------------------------------------------------------------------

def is_url(source: str) -> bool:
    return urlparse(source).scheme.lower() in {"http", "https", "webcal"}


def fetch_calendar(url: str, timeout: float = FETCH_TIMEOUT, max_bytes: int = MAX_CALENDAR_BYTES) -> bytes:
    """GET a calendar feed. Errors name the host only: feed URLs often carry a secret token."""
    if url.lower().startswith("webcal://"):
        url = "https://" + url[len("webcal://"):]
    host = urlparse(url).hostname or "?"
    try:
        with requests.get(url, timeout=timeout, stream=True,
                          headers={"Accept": "text/calendar, text/yaml;q=0.5, */*;q=0.1"}) as response:
            if response.status_code != 200:
                raise CalendarFetchError(f"calendar server {host} answered HTTP {response.status_code}")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise CalendarFetchError(f"calendar from {host} is larger than {max_bytes} bytes")
            body = bytearray()
            for chunk in response.iter_content(64 * 1024):
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise CalendarFetchError(f"calendar from {host} is larger than {max_bytes} bytes")
            return bytes(body)
    except requests.RequestException as exc:
        raise CalendarFetchError(f"could not fetch the calendar from {host}: {type(exc).__name__}") from exc


def read_source(source: str, timeout: float = FETCH_TIMEOUT,
                max_bytes: int = MAX_CALENDAR_BYTES) -> tuple[bytes, bool]:
    """The raw calendar and whether it is YAML (by the file or URL path's extension)."""
    is_yaml = urlparse(source).path.lower().endswith((".yml", ".yaml")) if is_url(source) \
        else source.lower().endswith((".yml", ".yaml"))
    if is_url(source):
        return fetch_calendar(source, timeout, max_bytes), is_yaml
    path = Path(source)
    try:
        if path.stat().st_size > max_bytes:
            raise CalendarError(f"calendar file {path.name} is larger than {max_bytes} bytes")
        return path.read_bytes(), is_yaml
    except OSError as exc:
        raise CalendarError(f"cannot read calendar file {source}: {exc.strerror or exc}") from exc


def parse_ics(raw: bytes | str) -> icalendar.Calendar:
    try:
        calendar = icalendar.Calendar.from_ical(raw)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise CalendarError(f"not an iCalendar file: {exc}") from exc
    if not isinstance(calendar, icalendar.Calendar) or calendar.name != "VCALENDAR":
        raise CalendarError("not an iCalendar file: no VCALENDAR")
    return calendar


def calendar_from_yaml(raw: bytes | str, default_timezone: str) -> icalendar.Calendar:
    """The YAML format (see the module docstring) as an iCalendar calendar."""
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise CalendarError(f"not a YAML file: {exc}") from exc
    if isinstance(data, Mapping):
        zone_name = str(data.get("timezone") or default_timezone)
        items = data.get("meetings")
    else:
        zone_name, items = default_timezone, data
    if items is None:
        items = []
    if not isinstance(items, list):
        raise CalendarError("YAML calendar: `meetings` must be a list")
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//resident-outreach-assistant//yaml//EN")
    calendar.add("version", "2.0")
    for number, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            raise CalendarError(f"YAML calendar: meeting #{number} is not a mapping")
        try:
            calendar.add_component(_yaml_event(item, zone_name))
        except (ValueError, TypeError, ZoneInfoNotFoundError) as exc:
            raise CalendarError(f"YAML calendar: meeting #{number} ({item.get('id', 'no id')}): {exc}") from exc
    return calendar


def _yaml_time(value: Any, zone: ZoneInfo, what: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0))
    elif isinstance(value, str) and value.strip():
        moment = datetime.fromisoformat(value.strip())
    else:
        raise ValueError(f"`{what}` must be a date and time like 2026-12-02 18:30")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def _yaml_date(value: Any, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value.strip())
    raise ValueError(f"`{what}` must be a date like 2026-12-23")


def _yaml_event(item: Mapping[str, Any], default_zone: str) -> icalendar.Event:
    uid = str(item.get("id") or "").strip()
    title = str(item.get("title") or "").strip()
    if not uid or not title:
        raise ValueError("`id` and `title` are required")
    zone = ZoneInfo(str(item.get("timezone") or default_zone))
    starts = _yaml_time(item.get("starts"), zone, "starts")
    if item.get("ends") is not None:
        ends = _yaml_time(item["ends"], zone, "ends")
    else:
        ends = starts + timedelta(minutes=int(item.get("duration_minutes") or 60))
    if ends <= starts:
        raise ValueError("`ends` must be after `starts`")
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("summary", title)
    event.add("dtstart", starts)
    event.add("dtend", ends)
    repeat = str(item.get("repeat") or "").strip().lower()
    if repeat:
        if repeat != "weekly":
            raise ValueError(f"`repeat` can only be weekly, not {repeat!r}")
        rule: dict[str, Any] = {"freq": "weekly"}
        if item.get("until") is not None:
            last_day = _yaml_date(item["until"], "until")
            rule["until"] = datetime.combine(last_day, time(23, 59, 59), zone).astimezone(timezone.utc)
        event.add("rrule", rule)
        for skipped_day in item.get("except") or []:
            event.add("exdate", datetime.combine(_yaml_date(skipped_day, "except"), starts.timetz()))
    languages = item.get("languages")
    if isinstance(languages, (list, tuple)):
        languages = ",".join(str(code) for code in languages)
    text_props = {
        "x-meeting-type": item.get("kind"), "location": item.get("address"), "x-room": item.get("room"),
        "url": item.get("url"), "x-neighborhood": item.get("neighborhood"), "x-zipcode": item.get("zipcode"),
        "x-capacity": item.get("capacity"), "x-languages": languages,
        "x-accessibility": item.get("accessibility"), "description": item.get("description"),
        "status": item.get("status"),
    }
    for name, value in text_props.items():
        if value is not None and str(value).strip():
            event.add(name, icalendar.vText(str(value).strip()))
    return event


# -- From calendar events to entries -------------------------------------------------------

def infer_kind(text: str) -> str | None:
    """The meeting type a title or category names, in English or Spanish, or None."""
    folded = fold(text)
    if folded.replace(" ", "_") in KINDS:
        return folded.replace(" ", "_")
    for kind, phrases in KIND_KEYWORDS:
        if any(re.search(rf"\b{re.escape(phrase)}\b", folded) for phrase in phrases):
            return kind
    return None


_ESCAPED = re.compile(r"\\([\\;,nN])")


def _text(component: icalendar.Component, name: str) -> str | None:
    """A property as plain text. icalendar leaves our X- properties escaped ("en\\,es")."""
    value = component.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return None
    text = str(value)
    if not isinstance(value, icalendar.vText):
        text = _ESCAPED.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)
    text = " ".join(text.split()) if name != "DESCRIPTION" else text.strip()
    return text or None


def _categories(component: icalendar.Component) -> list[str]:
    found: list[str] = []
    value = component.get("CATEGORIES")
    for item in value if isinstance(value, list) else [value] if value is not None else []:
        cats = getattr(item, "cats", None)
        found.extend(str(cat) for cat in (cats if cats is not None else [item]))
    return found


def _web_link(value: str | None) -> str | None:
    if value and urlparse(value).scheme.lower() in {"http", "https"} and urlparse(value).netloc:
        return value
    return None


def _clip(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value[:limit].rstrip() or None


def _zone_name(moment: datetime, fallback: str) -> str:
    """The IANA name of an event's zone; the department's for UTC and unknown zones."""
    key = getattr(moment.tzinfo, "key", None) or getattr(moment.tzinfo, "zone", None)
    if not key:
        try:
            key = icalendar.timezone.tzid_from_dt(moment)
        except Exception:  # noqa: BLE001 - a zone icalendar cannot name is simply not used
            key = None
    if not key or str(key).upper() in {"UTC", "Z", "ETC/UTC", "GMT"}:
        return fallback
    try:
        ZoneInfo(str(key))
    except (ZoneInfoNotFoundError, ValueError):
        return fallback
    return str(key)


def to_utc(value: datetime | date, zone: ZoneInfo) -> datetime:
    """Naive UTC, the way times are stored; floating and all-day values are in `zone`."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0))
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def utc_iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _source_uid(uid: str, occurrence: datetime | None) -> str:
    """UID, plus the occurrence's original start for a recurring event; hashed when too long."""
    suffix = f"/{utc_iso(occurrence)}" if occurrence is not None else ""
    if len(uid) + len(suffix) > 255:
        uid = "sha256:" + hashlib.sha256(uid.encode()).hexdigest()[:40]
    return uid + suffix


@dataclass(frozen=True)
class CalendarReader:
    """Turns a calendar into entries for [start, stop) in the department's terms."""

    timezone: str
    default_language: str = "en"

    def entries(self, calendar: icalendar.Calendar, start: datetime, stop: datetime
                ) -> tuple[list[CatalogEntry], int]:
        """Entries starting in [start, stop) (naive UTC) and how many events were skipped."""
        zone = ZoneInfo(self.timezone)
        recurring: set[str] = set()
        masters: dict[str, icalendar.Event] = {}
        seen: set[str] = set()
        for event in calendar.walk("VEVENT"):
            uid = str(event.get("UID") or "")
            if event.get("RRULE") is not None or event.get("RDATE") is not None:
                masters[uid] = event
            if uid in seen or uid in masters or event.get("RECURRENCE-ID") is not None:
                recurring.add(uid)  # a UID on several events (even without a rule) gets per-occurrence ids
            seen.add(uid)
        # Floating times are read in the department's zone below; a day's margin each side
        # keeps the library's own reading of them from losing any, the exact cut comes after.
        local_start = start.replace(tzinfo=timezone.utc).astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
        local_stop = stop.replace(tzinfo=timezone.utc).astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
        try:
            occurrences = list(recurring_ical_events.of(calendar).between(local_start, local_stop))
        except Exception as exc:  # the library raises many kinds on a malformed rule or date
            raise CalendarError(f"cannot expand the calendar's events: {type(exc).__name__}: {exc}") from exc
        entries: dict[str, CatalogEntry] = {}
        skipped = 0
        for occurrence in occurrences:
            dtstart = occurrence.get("DTSTART")
            if dtstart is None or not start <= to_utc(dtstart.dt, zone) < stop:
                continue
            entry = self.entry(occurrence, zone, recurring, masters)
            if entry is None:
                skipped += 1
            else:
                entries.setdefault(entry.source_uid, entry)
        return sorted(entries.values(), key=lambda e: (e.starts_at, e.source_uid)), skipped

    def entry(self, event: icalendar.Event, zone: ZoneInfo, recurring: set[str],
              masters: Mapping[str, icalendar.Event]) -> CatalogEntry | None:
        """One occurrence as an entry, or None when it is not a public meeting of a known type."""
        dtstart = event.get("DTSTART")
        title = _clip(_text(event, "SUMMARY"), 200)
        if dtstart is None or not title:
            return None
        if str(event.get("CLASS") or "PUBLIC").upper() in {"PRIVATE", "CONFIDENTIAL"}:
            return None
        uid = str(event.get("UID") or "")
        master = masters.get(uid)
        if master is not None and event.get("RECURRENCE-ID") is not None:
            for name in INHERITED:  # an override that leaves our properties out keeps the series'
                if event.get(name) is None and master.get(name) is not None:
                    event[name] = master[name]
        kind = self.kind(event, title)
        if kind is None:
            return None
        starts_at = to_utc(dtstart.dt, zone)
        dtend = event.get("DTEND")
        ends_at = to_utc(dtend.dt, zone) if dtend is not None else starts_at
        if ends_at <= starts_at:
            ends_at = starts_at + (timedelta(days=1) if not isinstance(dtstart.dt, datetime) else DEFAULT_DURATION)
        zone_name = _zone_name(dtstart.dt, self.timezone) if isinstance(dtstart.dt, datetime) else self.timezone
        if not uid:  # RFC 5545 requires a UID; without one, the title and start stand in for it
            uid = "nouid-" + hashlib.sha256(f"{title}|{utc_iso(starts_at)}".encode()).hexdigest()[:24]
        occurrence = None
        if uid in recurring:
            recurrence_id = event.get("RECURRENCE-ID")
            occurrence = to_utc(recurrence_id.dt, zone) if recurrence_id is not None else starts_at
        location = _text(event, "LOCATION")
        virtual_url = _web_link(_text(event, "URL")) or _web_link(_text(event, "CONFERENCE"))
        if _web_link(location):
            virtual_url, location = virtual_url or location, None
        zipcode = _text(event, "X-ZIPCODE")
        if zipcode is None and location:
            found = _ZIP_AT_END.search(location)
            zipcode = found.group(1) if found else None
        status = CANCELLED if str(event.get("STATUS") or "").upper() == "CANCELLED" else SCHEDULED
        return CatalogEntry(
            source_uid=_source_uid(uid, occurrence),
            title=title,
            kind=kind,
            starts_at=starts_at,
            ends_at=ends_at,
            timezone=zone_name,
            address=_clip(location, 255),
            room=_clip(_text(event, "X-ROOM"), 120),
            virtual_url=virtual_url if virtual_url and len(virtual_url) <= 500 else None,
            neighborhood=_clip(_text(event, "X-NEIGHBORHOOD"), 120),
            zipcode=_clip(zipcode, 10),
            capacity=_capacity(_text(event, "X-CAPACITY")),
            languages=self.languages(_text(event, "X-LANGUAGES")),
            accessibility=_clip(_text(event, "X-ACCESSIBILITY"), 2000),
            description=_clip(_text(event, "DESCRIPTION"), 4000),
            status=status,
        )

    @staticmethod
    def kind(event: icalendar.Event, title: str) -> str | None:
        for label in [*_categories(event), _text(event, "X-MEETING-TYPE") or ""]:
            kind = infer_kind(label) if label else None
            if kind:
                return kind
        return infer_kind(title)

    def languages(self, raw: str | None) -> str:
        codes: list[str] = []
        for part in re.split(r"[\s,;]+", (raw or "").lower()):
            if _LANGUAGE.match(part) and part not in codes:
                codes.append(part)
        joined = ",".join(codes)
        return joined if codes and len(joined) <= 32 else self.default_language


def _capacity(raw: str | None) -> int | None:
    if raw is None or not raw.strip().isdigit():
        return None
    return int(raw.strip())


# -- Bringing the table in line ------------------------------------------------------------

class CatalogService:
    """Imports a calendar into the `meetings` table, in one transaction."""

    def __init__(self, db: Database, clock: Clock, timezone: str, languages: Sequence[str] = ("en",),
                 window_days: int = WINDOW_DAYS, fetch_timeout: float = FETCH_TIMEOUT,
                 max_bytes: int = MAX_CALENDAR_BYTES) -> None:
        self._db = db
        self._clock = clock
        self._reader = CalendarReader(timezone, (list(languages) or ["en"])[0])
        self._window = timedelta(days=window_days)
        self._timeout = fetch_timeout
        self._max_bytes = max_bytes

    def import_source(self, source: str, allow_empty: bool = False) -> ImportSummary:
        """A file path or URL; YAML when it ends in .yml/.yaml, else iCalendar."""
        raw, is_yaml = read_source(source, self._timeout, self._max_bytes)
        if is_yaml:
            return self.import_calendar(calendar_from_yaml(raw, self._reader.timezone), allow_empty)
        return self.import_calendar(parse_ics(raw), allow_empty)

    def import_ics(self, raw: bytes | str, allow_empty: bool = False) -> ImportSummary:
        return self.import_calendar(parse_ics(raw), allow_empty)

    def import_calendar(self, calendar: icalendar.Calendar, allow_empty: bool = False) -> ImportSummary:
        now = self._clock.now()
        entries, skipped = self._reader.entries(calendar, now - timedelta(days=1), now + self._window)
        summary = self.apply(entries, allow_empty=allow_empty, now=now)
        summary.skipped += skipped
        log.info("meetings calendar imported: %s", summary)
        return summary

    def apply(self, entries: Iterable[CatalogEntry], allow_empty: bool = False,
              now: datetime | None = None) -> ImportSummary:
        """Create, update and cancel rows so the window's future matches `entries`."""
        now = now or self._clock.now()
        entries = list(entries)
        summary = ImportSummary()
        with self._db.session() as session:
            existing = _rows_by_uid(session, [entry.source_uid for entry in entries])
            for entry in entries:
                row = existing.get(entry.source_uid)
                if row is None:
                    if entry.status == CANCELLED:
                        summary.skipped += 1  # called off before residents ever saw it
                        continue
                    if entry.starts_at <= now:
                        continue  # already started: nothing to sign up for
                    session.add(Meeting(source_uid=entry.source_uid, seats_taken=0, version=1,
                                        created_at=now, updated_at=now,
                                        **{name: getattr(entry, name) for name in ENTRY_FIELDS}))
                    summary.created += 1
                elif row.starts_at <= now and entry.starts_at <= now:
                    continue  # past meetings are history: left alone
                else:
                    self._update(row, entry, now, summary)
            seen = {entry.source_uid for entry in entries}
            missing = [row for row in session.execute(
                select(Meeting).where(Meeting.status == SCHEDULED, Meeting.starts_at > now,
                                      Meeting.starts_at < now + self._window)
            ).scalars() if row.source_uid not in seen]
            if missing and not entries and not allow_empty:
                # An empty feed is far more often a broken export than a department calling off
                # everything; cancelling would text every registered resident.
                raise CalendarError(f"the calendar has no meetings in the next {self._window.days} days; "
                                    f"refusing to cancel {len(missing)} (use --allow-empty to do it)")
            for row in missing:
                row.status = CANCELLED
                row.version += 1
                row.updated_at = now
                summary.cancelled_missing += 1
        return summary

    @staticmethod
    def _update(row: Meeting, entry: CatalogEntry, now: datetime, summary: ImportSummary) -> None:
        changed = [name for name in ENTRY_FIELDS if getattr(row, name) != getattr(entry, name)]
        if not changed:
            summary.unchanged += 1
            return
        for name in changed:
            setattr(row, name, getattr(entry, name))
        row.updated_at = now
        summary.updated += 1
        if any(name in VERSIONED_FIELDS for name in changed):
            row.version += 1
            if "status" in changed and entry.status == CANCELLED:
                summary.called_off += 1
            else:
                summary.moved += 1


def _rows_by_uid(session: Session, uids: list[str]) -> dict[str, Meeting]:
    rows: dict[str, Meeting] = {}
    for start in range(0, len(uids), 500):  # stay under every database's bound-parameter limit
        chunk = uids[start:start + 500]
        rows.update((row.source_uid, row) for row in session.execute(
            select(Meeting).where(Meeting.source_uid.in_(chunk))).scalars())
    return rows


# -- Command line --------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> int:
    from bot.clock import SystemClock
    from bot.department import DepartmentProfile
    from bot.meetings.demo_calendar import demo_calendar
    from bot.settings import Settings
    from bot.storage.migrate import upgrade

    parser = argparse.ArgumentParser(prog="python -m bot.meetings.catalog",
                                     description="Import the meetings calendar into the database.")
    parser.add_argument("source", nargs="?", help="an .ics file or http(s) URL, or a .yml file "
                                                  "(default: MEETINGS_CALENDAR, else the demo calendar)")
    parser.add_argument("--days", type=int, default=WINDOW_DAYS, help="how far ahead to import (days)")
    parser.add_argument("--allow-empty", action="store_true",
                        help="let a calendar with no upcoming meetings cancel every future meeting")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    logging.basicConfig(level=settings.log_level)
    profile = DepartmentProfile.load(settings.department_profile)
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    clock = SystemClock()
    service = CatalogService(db, clock, profile.timezone, profile.languages, window_days=args.days)
    source = args.source or settings.meetings_calendar
    try:
        if source:
            summary = service.import_source(source, allow_empty=args.allow_empty)
            label = "calendar file" if not is_url(source) else f"calendar from {urlparse(source).hostname}"
        else:
            today = clock.now().replace(tzinfo=timezone.utc).astimezone(ZoneInfo(profile.timezone)).date()
            summary = service.import_ics(demo_calendar(today, profile.timezone), allow_empty=args.allow_empty)
            label = "demo calendar"
    except CalendarError as exc:
        print(f"meetings: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(f"meetings ({label}): {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Importing the meetings calendar (bot/meetings/catalog.py), the demo calendar and the .ics export.

The clock stands still at Tue 2026-11-24 17:00 UTC (9am in Port Alder) unless a test moves it;
the fixtures in tests/data/meetings/ hold meetings in December 2026.
"""
from __future__ import annotations

import time as time_module
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import create_engine, select, text

from bot.meetings.catalog import (
    KIND_KEYWORDS, CalendarError, CalendarFetchError, CalendarReader, CatalogService, ImportSummary, infer_kind,
    main, parse_ics,
)
from bot.meetings.demo_calendar import MEETINGS, demo_calendar
from bot.meetings.filters import KINDS
from bot.meetings.ics_export import meeting_ics
from bot.storage.database import Database
from bot.storage.models import Meeting
from tests.conftest import MutableClock
from tests.fakes.server import LoopbackServer, QuietHandler

DATA = Path(__file__).resolve().parent.parent / "data" / "meetings"
TZ = "America/Los_Angeles"
LA = ZoneInfo(TZ)


def fixture_text(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def utc(local: datetime, zone: ZoneInfo = LA) -> datetime:
    """Naive UTC of a Port Alder wall-clock time, as the table stores it."""
    return local.replace(tzinfo=zone).astimezone(timezone.utc).replace(tzinfo=None)


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    database = Database(sqlite_url)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(datetime(2026, 11, 24, 17, 0))


@pytest.fixture
def catalog(db: Database, clock: MutableClock) -> CatalogService:
    return CatalogService(db, clock, TZ, ("en", "es"))


def meetings(db: Database) -> dict[str, Meeting]:
    with db.session() as session:
        return {m.source_uid: m for m in session.execute(select(Meeting)).scalars()}


def combined(*names: str) -> str:
    """One calendar with the events of several fixtures."""
    events = "".join(
        "BEGIN:VEVENT" + part.split("END:VEVENT")[0] + "END:VEVENT\n"
        for name in names for part in fixture_text(name).split("BEGIN:VEVENT")[1:]
    )
    return f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n{events}END:VCALENDAR\n"


def only(db: Database) -> Meeting:
    rows = list(meetings(db).values())
    assert len(rows) == 1
    return rows[0]


# -- One event ---------------------------------------------------------------------------

def test_a_single_event_becomes_one_meeting_with_every_field(catalog: CatalogService, db: Database) -> None:
    summary = catalog.import_source(str(DATA / "single.ics"))
    assert (summary.created, summary.updated, summary.skipped) == (1, 0, 0)
    meeting = only(db)
    assert meeting.source_uid == "townhall-north-2026-12@test.portalderpd.example"
    assert meeting.title == "North District Town Hall"
    assert meeting.kind == "town_hall"
    assert meeting.starts_at == utc(datetime(2026, 12, 8, 18, 30)) == datetime(2026, 12, 9, 2, 30)
    assert meeting.ends_at == datetime(2026, 12, 9, 4, 0)
    assert meeting.timezone == TZ
    assert meeting.address == "Northside Community Center, 2200 Alder Ave, Port Alder, OR 97203"
    assert meeting.room == "Hall A"
    assert meeting.virtual_url is None
    assert meeting.neighborhood == "Alder Heights"
    assert meeting.zipcode == "97203"
    assert meeting.capacity == 40
    assert meeting.languages == "en,es"
    assert meeting.accessibility == "Step-free entrance. ASL interpreter on request."
    assert meeting.description == "Crime trends in the North District and your questions to the captain."
    assert (meeting.status, meeting.version, meeting.seats_taken) == ("scheduled", 1, 0)


def test_recurring_event_expands_skips_the_exdate_and_keeps_the_overridden_occurrence(
        catalog: CatalogService, db: Database) -> None:
    summary = catalog.import_source(str(DATA / "recurring.ics"))
    assert summary.created == 4  # Dec 2, 9, (not 16: EXDATE), 23 moved to 10am, 30
    rows = sorted(meetings(db).values(), key=lambda m: m.starts_at)
    uid = "coffee-harbor@test.portalderpd.example"
    assert [m.source_uid for m in rows] == [
        f"{uid}/2026-12-02T16:00:00Z", f"{uid}/2026-12-09T16:00:00Z",
        f"{uid}/2026-12-23T16:00:00Z", f"{uid}/2026-12-30T16:00:00Z",
    ]
    moved = rows[2]  # identified by its original start (RECURRENCE-ID), shown at its new time
    assert moved.starts_at == utc(datetime(2026, 12, 23, 10, 0))
    assert moved.title == "Coffee with a Cop (holiday hours)"
    assert moved.kind == "coffee_with_a_cop"
    assert moved.neighborhood == "Old Harbor"  # an override that leaves out X- properties keeps the series'
    assert all(m.kind == "coffee_with_a_cop" and m.zipcode == "97201" and m.languages == "en" for m in rows)
    assert rows[0].starts_at == utc(datetime(2026, 12, 2, 8, 0))


# -- Re-import -----------------------------------------------------------------------------

def test_reimporting_the_same_calendar_changes_nothing(catalog: CatalogService, db: Database,
                                                      clock: MutableClock) -> None:
    calendar = combined("single.ics", "recurring.ics")
    assert catalog.import_ics(calendar).created == 5
    before = {uid: (m.updated_at, m.version) for uid, m in meetings(db).items()}
    clock.advance(hours=1)
    assert catalog.import_ics(calendar) == ImportSummary(unchanged=5)
    assert {uid: (m.updated_at, m.version) for uid, m in meetings(db).items()} == before


def test_unchanged_calendar_twice_is_all_unchanged(catalog: CatalogService, db: Database, clock: MutableClock) -> None:
    first = catalog.import_source(str(DATA / "recurring.ics"))
    stamps = {uid: m.updated_at for uid, m in meetings(db).items()}
    clock.advance(hours=1)
    second = catalog.import_source(str(DATA / "recurring.ics"))
    assert first.created == 4
    assert second == ImportSummary(unchanged=4)
    assert {uid: m.updated_at for uid, m in meetings(db).items()} == stamps


def test_a_changed_time_updates_the_row_and_bumps_the_version(catalog: CatalogService, db: Database) -> None:
    catalog.import_source(str(DATA / "single.ics"))
    with db.session() as session:  # residents hold seats: the import must not touch them
        session.execute(Meeting.__table__.update().values(seats_taken=2))
    summary = catalog.import_ics(fixture_text("single.ics").replace("T183000", "T190000").replace("T200000", "T203000"))
    assert (summary.updated, summary.moved, summary.called_off) == (1, 1, 0)
    meeting = only(db)
    assert meeting.starts_at == utc(datetime(2026, 12, 8, 19, 0))
    assert (meeting.version, meeting.seats_taken, meeting.status) == (2, 2, "scheduled")


def test_a_moved_occurrence_of_a_series_keeps_its_row(catalog: CatalogService, db: Database) -> None:
    catalog.import_source(str(DATA / "recurring.ics"))
    later = fixture_text("recurring.ics").replace("20261223T100000", "20261223T120000").replace(
        "20261223T113000", "20261223T133000")
    summary = catalog.import_ics(later)
    assert (summary.created, summary.updated, summary.moved, summary.unchanged) == (0, 1, 1, 3)
    moved = meetings(db)["coffee-harbor@test.portalderpd.example/2026-12-23T16:00:00Z"]
    assert (moved.starts_at, moved.version) == (utc(datetime(2026, 12, 23, 12, 0)), 2)


def test_a_changed_description_updates_without_a_new_version(catalog: CatalogService, db: Database) -> None:
    catalog.import_source(str(DATA / "single.ics"))
    summary = catalog.import_ics(fixture_text("single.ics").replace("X-CAPACITY:40", "X-CAPACITY:60")
                                 .replace("captain.", "chief."))
    assert (summary.updated, summary.moved) == (1, 0)
    meeting = only(db)
    assert (meeting.capacity, meeting.version) == (60, 1)
    assert meeting.description is not None and meeting.description.endswith("chief.")


def test_a_new_room_is_a_move(catalog: CatalogService, db: Database) -> None:
    catalog.import_source(str(DATA / "single.ics"))
    summary = catalog.import_ics(fixture_text("single.ics").replace("X-ROOM:Hall A", "X-ROOM:Hall B"))
    assert summary.moved == 1
    assert (only(db).room, only(db).version) == ("Hall B", 2)


def test_a_called_off_event_is_cancelled_with_a_new_version(catalog: CatalogService, db: Database) -> None:
    catalog.import_source(str(DATA / "single.ics"))
    called_off = fixture_text("single.ics").replace("STATUS:CONFIRMED", "STATUS:CANCELLED")
    summary = catalog.import_ics(called_off)
    assert (summary.updated, summary.called_off, summary.moved) == (1, 1, 0)
    assert (only(db).status, only(db).version) == ("cancelled", 2)
    assert catalog.import_ics(called_off) == ImportSummary(unchanged=1)  # once, not at every import


def test_an_event_missing_from_the_new_calendar_is_cancelled(catalog: CatalogService, db: Database) -> None:
    catalog.import_source(str(DATA / "recurring.ics"))
    catalog.import_source(str(DATA / "single.ics"))  # the town hall; the coffee series goes missing
    rows = meetings(db)
    coffee = [m for uid, m in rows.items() if uid.startswith("coffee-harbor")]
    assert len(coffee) == 4 and all((m.status, m.version) == ("cancelled", 2) for m in coffee)
    assert rows["townhall-north-2026-12@test.portalderpd.example"].status == "scheduled"
    # Back in the calendar: scheduled again, and registered residents hear of it (a new version).
    catalog.import_source(str(DATA / "recurring.ics"))
    assert all(m.status == "scheduled" and m.version == 3 for uid, m in meetings(db).items()
               if uid.startswith("coffee-harbor"))


def test_one_occurrence_removed_from_a_series_is_cancelled(catalog: CatalogService, db: Database) -> None:
    catalog.import_source(str(DATA / "recurring.ics"))
    fewer = fixture_text("recurring.ics").replace("EXDATE;TZID=America/Los_Angeles:20261216T080000",
                                                  "EXDATE;TZID=America/Los_Angeles:20261216T080000,20261209T080000")
    summary = catalog.import_ics(fewer)
    assert (summary.cancelled_missing, summary.unchanged) == (1, 3)
    gone = meetings(db)["coffee-harbor@test.portalderpd.example/2026-12-09T16:00:00Z"]
    assert (gone.status, gone.version) == ("cancelled", 2)


def test_past_meetings_are_left_alone(catalog: CatalogService, db: Database, clock: MutableClock) -> None:
    catalog.import_source(str(DATA / "recurring.ics"))
    clock.current = datetime(2026, 12, 10, 0, 0)  # Dec 2 and Dec 9 are over
    summary = catalog.import_source(str(DATA / "single.ics"))
    rows = meetings(db)
    past = [m for m in rows.values() if m.kind == "coffee_with_a_cop" and m.starts_at < clock.now()]
    future = [m for m in rows.values() if m.kind == "coffee_with_a_cop" and m.starts_at > clock.now()]
    assert len(past) == 2 and all((m.status, m.version) == ("scheduled", 1) for m in past)
    assert len(future) == 2 and all(m.status == "cancelled" for m in future)
    assert summary.cancelled_missing == 2


def test_an_empty_calendar_does_not_cancel_everything_unless_allowed(catalog: CatalogService, db: Database) -> None:
    catalog.import_source(str(DATA / "single.ics"))
    empty = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nEND:VCALENDAR\r\n"
    with pytest.raises(CalendarError, match="refusing to cancel 1"):
        catalog.import_ics(empty)
    assert only(db).status == "scheduled"
    assert catalog.import_ics(empty, allow_empty=True).cancelled_missing == 1
    assert only(db).status == "cancelled"


def test_events_beyond_the_window_are_not_imported(db: Database, clock: MutableClock) -> None:
    short = CatalogService(db, clock, TZ, ("en", "es"), window_days=10)  # up to Dec 4
    assert short.import_source(str(DATA / "recurring.ics")).created == 1  # only Dec 2


# -- Times and kinds -----------------------------------------------------------------------

def test_floating_all_day_utc_and_other_zones(catalog: CatalogService, db: Database) -> None:
    summary = catalog.import_source(str(DATA / "mixed.ics"))
    rows = meetings(db)
    floating = rows["floating-watch@test.portalderpd.example"]
    assert floating.starts_at == utc(datetime(2026, 12, 10, 18, 30))  # in the department's zone
    assert floating.ends_at == utc(datetime(2026, 12, 10, 19, 30))
    assert (floating.timezone, floating.kind, floating.languages) == (TZ, "neighborhood_watch", "es")
    assert floating.zipcode == "97202"  # ZIP+4 at the end of LOCATION
    all_day = rows["allday-youth@test.portalderpd.example"]
    assert all_day.starts_at == utc(datetime(2026, 12, 12, 0, 0))
    assert all_day.ends_at == utc(datetime(2026, 12, 13, 0, 0))
    assert (all_day.kind, all_day.zipcode, all_day.languages) == ("youth_program", "97204", "en")
    in_utc = rows["utc-taller@test.portalderpd.example"]
    assert (in_utc.starts_at, in_utc.ends_at) == (datetime(2026, 12, 12, 19, 0), datetime(2026, 12, 12, 20, 30))
    assert in_utc.timezone == TZ  # residents read UTC events in the department's time
    assert (in_utc.kind, in_utc.zipcode, in_utc.capacity) == ("crime_prevention_workshop", "97202", 2)
    online = rows["online-townhall@test.portalderpd.example"]
    assert (online.kind, online.address, online.virtual_url) == (
        "town_hall", None, "https://meet.portalderpd.example/townhall")
    eastern = rows["conference-academy@test.portalderpd.example"]
    assert eastern.starts_at == utc(datetime(2026, 12, 17, 21, 0), ZoneInfo("America/New_York"))
    assert eastern.timezone == "America/New_York"
    assert eastern.kind == "citizen_academy"
    assert eastern.virtual_url == "https://meet.portalderpd.example/academy"
    assert eastern.address is not None and eastern.zipcode == "97201"
    # The potluck (no known type), the private event and the one called off before import:
    assert set(rows) == {"floating-watch@test.portalderpd.example", "allday-youth@test.portalderpd.example",
                         "utc-taller@test.portalderpd.example", "online-townhall@test.portalderpd.example",
                         "conference-academy@test.portalderpd.example"}
    assert (summary.created, summary.skipped) == (5, 3)


def test_a_floating_time_follows_the_department_timezone(db: Database, clock: MutableClock) -> None:
    chicago = CatalogService(db, clock, "America/Chicago", ("es",))
    chicago.import_source(str(DATA / "mixed.ics"))
    floating = meetings(db)["floating-watch@test.portalderpd.example"]
    assert floating.starts_at == utc(datetime(2026, 12, 10, 18, 30), ZoneInfo("America/Chicago"))
    assert floating.timezone == "America/Chicago"
    assert meetings(db)["allday-youth@test.portalderpd.example"].languages == "es"  # its first language


@pytest.mark.parametrize("title, kind", [
    ("Coffee with a Cop", "coffee_with_a_cop"),
    ("Café con un policía", "coffee_with_a_cop"),
    ("Coffee With A Cop at Harbor Cafe", "coffee_with_a_cop"),
    ("South District Town Hall", "town_hall"),
    ("Asamblea comunitaria del distrito sur", "town_hall"),
    ("Reunión comunitaria", "town_hall"),
    ("Neighborhood Watch: Eastgate", "neighborhood_watch"),
    ("Block Watch kickoff", "neighborhood_watch"),
    ("Vigilancia vecinal", "neighborhood_watch"),
    ("Citizen Police Academy", "citizen_academy"),
    ("Academia de ciudadanos", "citizen_academy"),
    ("Youth Basketball Night", "youth_program"),
    ("Programa para jóvenes", "youth_program"),
    ("Teen summer camp", "youth_program"),
    ("Home Security Workshop", "crime_prevention_workshop"),
    ("Crime Prevention Night", "crime_prevention_workshop"),
    ("Taller contra estafas", "crime_prevention_workshop"),
    ("Prevención del robo de paquetes", "crime_prevention_workshop"),
    ("town_hall", "town_hall"),
    ("Holiday potluck", None),
    ("Chief's retirement party", None),
    ("Budget hearing", None),
])
def test_kind_inference(title: str, kind: str | None) -> None:
    assert infer_kind(title) == kind


def test_every_kind_has_keywords() -> None:
    assert {kind for kind, _ in KIND_KEYWORDS} == set(KINDS)


def test_an_explicit_type_wins_over_the_title(catalog: CatalogService, db: Database) -> None:
    calendar = fixture_text("single.ics").replace("CATEGORIES:Town Hall", "CATEGORIES:Community,Youth Program")
    catalog.import_ics(calendar)
    assert only(db).kind == "youth_program"


def test_an_event_of_no_known_type_is_skipped_and_counted(catalog: CatalogService, db: Database) -> None:
    calendar = (fixture_text("single.ics").replace("CATEGORIES:Town Hall\n", "")
                .replace("SUMMARY:North District Town Hall", "SUMMARY:Budget hearing"))
    summary = catalog.import_ics(calendar)
    assert (summary.created, summary.skipped) == (0, 1)
    assert meetings(db) == {}


def test_a_broken_calendar_is_a_typed_error(catalog: CatalogService, tmp_path: Path) -> None:
    with pytest.raises(CalendarError):
        catalog.import_ics("<html>not a calendar</html>")
    with pytest.raises(CalendarError):
        catalog.import_source(str(tmp_path / "missing.ics"))
    broken = tmp_path / "broken.yml"
    broken.write_text("meetings:\n  - id: x\n    title: Coffee with a Cop\n    starts: next tuesday\n")
    with pytest.raises(CalendarError, match="meeting #1"):
        catalog.import_source(str(broken))


# -- YAML ----------------------------------------------------------------------------------

def test_yaml_source(catalog: CatalogService, db: Database) -> None:
    summary = catalog.import_source(str(DATA / "meetings.yml"))
    assert (summary.created, summary.skipped) == (6, 0)  # 4 coffees (Dec 16 excepted), workshop, academy
    rows = meetings(db)
    coffee = sorted((m for m in rows.values() if m.kind == "coffee_with_a_cop"), key=lambda m: m.starts_at)
    assert [m.starts_at for m in coffee] == [utc(datetime(2026, 12, day, 8, 0)) for day in (2, 9, 23, 30)]
    assert coffee[0].source_uid == "coffee-harbor-cafe/2026-12-02T16:00:00Z"
    assert (coffee[0].languages, coffee[0].zipcode, coffee[0].neighborhood) == ("en,es", "97201", "Old Harbor")
    workshop = rows["workshop-home-security-2026-12"]
    assert (workshop.kind, workshop.capacity, workshop.room) == ("crime_prevention_workshop", 3, "Community Room")
    assert workshop.ends_at - workshop.starts_at == timedelta(minutes=90)
    academy = rows["online-academy-2026-12"]
    assert (academy.kind, academy.virtual_url, academy.address) == (
        "citizen_academy", "https://meet.portalderpd.example/academy", None)
    assert academy.ends_at - academy.starts_at == timedelta(hours=1)
    assert catalog.import_source(str(DATA / "meetings.yml")) == ImportSummary(unchanged=6)


# -- URL sources ---------------------------------------------------------------------------

class CalendarFeed(QuietHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = urlparse(self.path).path
        if path == "/slow.ics":
            time_module.sleep(1.5)
        if path in ("/calendar.ics", "/slow.ics", "/meetings.yml"):
            name = "meetings.yml" if path.endswith(".yml") else "single.ics"
            body = (DATA / name).read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar" if name.endswith(".ics") else "text/yaml")
        elif path == "/huge.ics":
            body = b"X" * 200_000
            self.send_response(200)
        else:
            body = b"oops"
            self.send_response(500 if path == "/broken.ics" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def feed() -> Iterator[LoopbackServer]:
    server = LoopbackServer(CalendarFeed)
    yield server
    server.stop()


def test_url_source(catalog: CatalogService, db: Database, feed: LoopbackServer) -> None:
    assert catalog.import_source(f"{feed.url}/calendar.ics").created == 1
    assert only(db).kind == "town_hall"
    assert catalog.import_source(f"{feed.url}/meetings.yml").created == 6


def test_url_errors_are_typed(db: Database, clock: MutableClock, feed: LoopbackServer) -> None:
    catalog = CatalogService(db, clock, TZ, ("en",), fetch_timeout=0.5, max_bytes=100_000)
    with pytest.raises(CalendarFetchError, match="HTTP 500"):
        catalog.import_source(f"{feed.url}/broken.ics?token=secret")
    with pytest.raises(CalendarFetchError, match="HTTP 404") as missing:
        catalog.import_source(f"{feed.url}/nothing.ics?token=secret")
    assert "secret" not in str(missing.value)  # feed URLs carry tokens: errors name the host only
    with pytest.raises(CalendarFetchError, match="larger than"):
        catalog.import_source(f"{feed.url}/huge.ics")
    with pytest.raises(CalendarFetchError, match="Timeout"):
        catalog.import_source(f"{feed.url}/slow.ics")
    with pytest.raises(CalendarFetchError):
        catalog.import_source("http://127.0.0.1:1/calendar.ics")
    assert meetings(db) == {}


# -- The demo calendar ---------------------------------------------------------------------

def _local_midnight_after(day: date) -> datetime:
    """The worst moment of a day for "future meetings": its last minute, in Port Alder."""
    return utc(datetime.combine(day, datetime.min.time()) + timedelta(hours=23, minutes=59))


@pytest.mark.parametrize("today", [
    date(2026, 11, 24), date(2026, 12, 31), date(2027, 1, 1), date(2027, 2, 28), date(2028, 2, 29),
    date(2027, 3, 14), date(2027, 11, 7), date(2027, 6, 30), date(2030, 7, 4),
])
def test_demo_calendar_has_future_meetings_of_every_kind(db: Database, today: date) -> None:
    clock = MutableClock(_local_midnight_after(today))
    summary = CatalogService(db, clock, TZ, ("en", "es")).import_ics(demo_calendar(today, TZ))
    assert summary.skipped == 0 and summary.created >= 20
    upcoming = [m for m in meetings(db).values() if m.starts_at > clock.now() and m.status == "scheduled"]
    assert {m.kind for m in upcoming} == set(KINDS)
    assert any(m.virtual_url and not m.address for m in upcoming)
    assert any(m.capacity is not None and m.capacity <= 3 for m in upcoming)
    assert any("es" in m.languages.split(",") for m in upcoming)
    assert any(m.languages == "es" for m in upcoming)
    assert len({m.neighborhood for m in upcoming if m.kind == "neighborhood_watch"}) >= 2
    assert all(m.accessibility for m in upcoming)
    assert all(len(m.title) <= 40 for m in upcoming)
    assert all(m.zipcode and m.zipcode.startswith("972") for m in upcoming if m.address)


def test_demo_calendar_covers_every_kind_on_any_day() -> None:
    """No DB: every day of two years, the coming 6 weeks hold every kind after the day ends."""
    reader = CalendarReader(TZ, "en")
    for offset in range(0, 730, 5):  # every weekday, every month
        today = date(2026, 11, 1) + timedelta(days=offset)
        now = _local_midnight_after(today)
        entries, skipped = reader.entries(parse_ics(demo_calendar(today, TZ)), now, now + timedelta(days=90))
        assert skipped == 0
        assert {e.kind for e in entries} == set(KINDS), today


def test_demo_calendar_is_deterministic_and_stable_from_day_to_day(db: Database) -> None:
    assert demo_calendar(date(2026, 11, 24)) == demo_calendar(date(2026, 11, 24))
    today = date(2026, 11, 24)
    clock = MutableClock(utc(datetime(2026, 11, 24, 6, 0)))
    catalog = CatalogService(db, clock, TZ, ("en", "es"))
    for day in range(45):  # a demo machine re-imported every morning for six weeks
        summary = catalog.import_ics(demo_calendar(today + timedelta(days=day), TZ))
        assert (summary.updated, summary.cancelled_missing, summary.skipped) == (0, 0, 0), day
        clock.advance(days=1)
    assert len({m.kind for m in meetings(db).values()}) == len(KINDS)
    assert len(MEETINGS) >= 10


def test_command_line_imports_the_demo_calendar(sqlite_url: str, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.delenv("MEETINGS_CALENDAR", raising=False)
    assert main([]) == 0
    assert "demo calendar" in capsys.readouterr().out
    assert main([str(DATA / "single.ics")]) == 0
    assert "cancelled as missing" in capsys.readouterr().out
    assert main([str(DATA / "nothing-here.ics")]) == 1


# -- The .ics export -----------------------------------------------------------------------

def test_ics_export_round_trips(catalog: CatalogService, db: Database) -> None:
    catalog.import_source(str(DATA / "single.ics"))
    meeting = only(db)
    raw = meeting_ics(meeting, "Port Alder Police Department")
    assert raw == meeting_ics(meeting, "Port Alder Police Department")  # same bytes each time
    calendar = icalendar.Calendar.from_ical(raw)
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]).startswith(f"meeting-{meeting.id}-")
    assert event.decoded("DTSTART") == meeting.starts_at.replace(tzinfo=timezone.utc)
    assert event.decoded("DTEND") == meeting.ends_at.replace(tzinfo=timezone.utc)
    assert b"DTSTART:20261209T023000Z" in raw
    assert str(event["SUMMARY"]) == "North District Town Hall"
    assert str(event["LOCATION"]) == "Hall A, Northside Community Center, 2200 Alder Ave, Port Alder, OR 97203"
    assert "Port Alder Police Department" in str(event["DESCRIPTION"])
    assert "Step-free" in str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "CONFIRMED" and int(event["SEQUENCE"]) == 0
    # And it reads back into the catalog as the same meeting.
    entries, _ = CalendarReader(TZ).entries(calendar, datetime(2026, 11, 24), datetime(2027, 1, 31))
    [entry] = entries
    assert (entry.starts_at, entry.ends_at, entry.kind, entry.zipcode) == (
        meeting.starts_at, meeting.ends_at, "town_hall", "97203")


def test_ics_export_follows_changes(catalog: CatalogService, db: Database) -> None:
    catalog.import_source(str(DATA / "mixed.ics"))
    online = meetings(db)["online-townhall@test.portalderpd.example"]
    first = icalendar.Calendar.from_ical(meeting_ics(online)).walk("VEVENT")[0]
    assert str(first["LOCATION"]) == str(first["URL"]) == "https://meet.portalderpd.example/townhall"
    catalog.import_ics(fixture_text("mixed.ics").replace("T190000\nDTEND;TZID=America/Los_Angeles:20261216T200000",
                                                         "T180000\nDTEND;TZID=America/Los_Angeles:20261216T190000"))
    moved = meetings(db)["online-townhall@test.portalderpd.example"]
    again = icalendar.Calendar.from_ical(meeting_ics(moved)).walk("VEVENT")[0]
    assert str(again["UID"]) == str(first["UID"])  # the same event in the resident's calendar app
    assert int(again["SEQUENCE"]) == 1
    assert "DESCRIPTION" not in again or "None" not in str(again["DESCRIPTION"])


# -- PostgreSQL (when TEST_POSTGRES_URL is set) and SQLite -------------------------------------

def test_import_on_every_database(database_url: str, clock: MutableClock) -> None:
    if database_url.startswith("postgresql"):
        engine = create_engine(database_url, future=True)
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE signup_notices, signups, meetings RESTART IDENTITY CASCADE"))
        engine.dispose()
    db = Database(database_url)
    try:
        catalog = CatalogService(db, clock, TZ, ("en", "es"))
        assert catalog.import_source(str(DATA / "recurring.ics")).created == 4
        assert catalog.import_source(str(DATA / "recurring.ics")) == ImportSummary(unchanged=4)
        moved = fixture_text("recurring.ics").replace("20261223T100000", "20261223T110000")
        assert catalog.import_ics(moved).moved == 1
        assert catalog.import_source(str(DATA / "mixed.ics")).cancelled_missing == 4
        rows = meetings(db)
        assert rows["coffee-harbor@test.portalderpd.example/2026-12-23T16:00:00Z"].version == 3
        assert rows["utc-taller@test.portalderpd.example"].starts_at == datetime(2026, 12, 12, 19, 0)
    finally:
        db.dispose()

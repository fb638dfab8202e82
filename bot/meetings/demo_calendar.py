"""A made-up meetings calendar for Port Alder, so a demo never runs out of future meetings.

Every meeting follows a calendar rule ("second Tuesday of the month", "every Wednesday"),
never "today + 3 days": the same meeting keeps the same UID and start whichever day the demo
is imported, so re-importing day after day changes nothing but the window's ends. Any 6-week
window holds at least one meeting of every type (monthly rules repeat within 35 days).

Places, links and the ZIP codes 97201-97205 are fictional, like department.yml.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterator
from zoneinfo import ZoneInfo

import icalendar

UID_DOMAIN = "demo.portalderpd.example"
WEEKS = 6
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)

STATION = "Police Station, 400 Harbor St, Port Alder, OR 97201"
# Weekly series skip these days (EXDATE), as a real department's calendar would.
HOLIDAYS = ((1, 1), (7, 4), (12, 24), (12, 25), (12, 31))
STEP_FREE = "Step-free entrance and accessible restrooms. ASL or Spanish interpreter on request."


@dataclass(frozen=True)
class DemoMeeting:
    """One meeting rule: `weekday` on every week (`nth` None) or the nth of the month (-1: last)."""

    key: str
    title: str
    kind: str
    category: str
    weekday: int
    nth: int | None
    start: time
    minutes: int
    address: str | None = None
    room: str | None = None
    neighborhood: str | None = None
    zipcode: str | None = None
    url: str | None = None
    capacity: int | None = None
    languages: str = "en"
    accessibility: str | None = STEP_FREE
    description: str | None = None


MEETINGS: tuple[DemoMeeting, ...] = (
    # Weekly: one recurring event each (RRULE), like a real calendar app exports them.
    DemoMeeting("coffee-harbor-cafe", "Coffee with a Cop", "coffee_with_a_cop", "Coffee with a Cop",
                WED, None, time(8, 0), 90, address="Harbor Cafe, 118 Front St, Port Alder, OR 97201",
                neighborhood="Old Harbor",
                accessibility="Step-free entrance; quiet corner table on request.",
                description="Drop in, have a coffee on us and meet your beat officers. No agenda."),
    DemoMeeting("citizen-academy", "Citizen Police Academy", "citizen_academy", "Citizen Academy",
                THU, None, time(18, 0), 180, address=STATION, room="Training Room",
                neighborhood="Old Harbor", capacity=24,
                accessibility="Elevator to the 2nd floor. Interpreter on request.",
                description="Weekly class: patrol, 911 dispatch, investigations, a ride-along."),
    DemoMeeting("youth-hoops", "Youth Basketball Night", "youth_program", "Youth Program",
                FRI, None, time(17, 30), 120, address="Port Alder Youth Center, 510 Maple St, Port Alder, OR 97204",
                neighborhood="Southport", languages="en,es",
                description="Ages 11-17, free. Play with officers and coaches; snacks provided."),
    # Monthly town halls, one per district, and one online for the whole city.
    DemoMeeting("townhall-north", "North District Town Hall", "town_hall", "Town Hall", TUE, 2, time(18, 30), 90,
                address="Northside Community Center, 2200 Alder Ave, Port Alder, OR 97203", room="Hall A",
                neighborhood="Alder Heights",
                description="Crime trends in the North District and your questions to the captain."),
    DemoMeeting("townhall-south", "South District Town Hall", "town_hall", "Town Hall", THU, 3, time(18, 30), 90,
                address="Southport Library, 815 Bay Rd, Port Alder, OR 97204", room="Meeting Room 1",
                neighborhood="Southport",
                description="Crime trends in the South District and your questions to the captain."),
    DemoMeeting("townhall-online", "Online Town Hall", "town_hall", "Town Hall", WED, -1, time(19, 0), 60,
                url="https://meet.portalderpd.example/townhall", languages="en,es",
                accessibility="Live captions in English and Spanish. Join by phone: see the link.",
                description="Citywide, online: the chief answers questions sent in advance and live."),
    # Neighborhood Watch, monthly per neighborhood.
    DemoMeeting("watch-alder-heights", "Neighborhood Watch: Alder Heights", "neighborhood_watch",
                "Neighborhood Watch", TUE, 1, time(19, 0), 60,
                address="Fire Station 3, 1450 Summit Dr, Port Alder, OR 97203", room="Community Room",
                neighborhood="Alder Heights"),
    DemoMeeting("watch-riverside", "Neighborhood Watch: Riverside", "neighborhood_watch", "Neighborhood Watch",
                THU, 2, time(18, 30), 60, address="Riverside Church Hall, 640 River St, Port Alder, OR 97202",
                neighborhood="Riverside", languages="en,es",
                description="Bilingual meeting (English/Spanish). Bring your block's questions."),
    DemoMeeting("watch-eastgate", "Neighborhood Watch: Eastgate", "neighborhood_watch", "Neighborhood Watch",
                MON, 3, time(19, 0), 60, address="Eastgate Elementary, 3100 Cedar Ln, Port Alder, OR 97205",
                room="Library", neighborhood="Eastgate"),
    DemoMeeting("watch-old-harbor", "Neighborhood Watch: Old Harbor", "neighborhood_watch", "Neighborhood Watch",
                TUE, 4, time(18, 0), 60, address=STATION, room="Community Room", neighborhood="Old Harbor"),
    # Workshops: a tiny one (the waitlist demo) and one in Spanish.
    DemoMeeting("workshop-home-security", "Home Security Workshop", "crime_prevention_workshop",
                "Crime Prevention Workshop", SAT, 1, time(10, 0), 90, address=STATION, room="Community Room",
                neighborhood="Old Harbor", capacity=3,
                description="Locks, lighting and cameras: a crime prevention officer shows what works."),
    DemoMeeting("taller-estafas", "Taller contra estafas", "crime_prevention_workshop", "Crime Prevention Workshop",
                SAT, 3, time(11, 0), 90, address="Centro Comunitario Latino, 925 Pine St, Port Alder, OR 97202",
                room="Salon 2", neighborhood="Riverside", capacity=20, languages="es",
                accessibility="Entrada sin escalones. Cuidado de ninos gratis.",
                description="Como reconocer estafas por telefono y en linea. Todo en espanol."),
)


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> date | None:
    """The nth (1-5, or -1 for the last) `weekday` of a month, or None if it has none."""
    if nth > 0:
        first = date(year, month, 1)
        day = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
        return day if day.month == month else None
    following = date(year + month // 12, month % 12 + 1, 1)
    last = following - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _months(first: date, last: date) -> Iterator[tuple[int, int]]:
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _weekdays(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=7)


def _event(meeting: DemoMeeting, day: date, zone: ZoneInfo, uid: str) -> icalendar.Event:
    starts = datetime.combine(day, meeting.start, zone)
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("summary", meeting.title)
    event.add("dtstart", starts)
    event.add("dtend", datetime.combine(day, meeting.start, zone) + timedelta(minutes=meeting.minutes))
    event.add("categories", [meeting.category])
    event.add("x-meeting-type", meeting.kind)
    optional = {"location": meeting.address, "x-room": meeting.room, "url": meeting.url,
                "x-neighborhood": meeting.neighborhood, "x-zipcode": meeting.zipcode,
                "x-capacity": None if meeting.capacity is None else str(meeting.capacity),
                "x-accessibility": meeting.accessibility, "description": meeting.description}
    for name, value in optional.items():
        if value is not None:
            event.add(name, icalendar.vText(value))
    event.add("x-languages", icalendar.vText(meeting.languages))
    event.add("status", "CONFIRMED")
    event.add("class", "PUBLIC")
    return event


def demo_calendar(today: date, timezone_name: str = "America/Los_Angeles", weeks: int = WEEKS) -> str:
    """The iCalendar text of the demo meetings from `today` to `weeks` weeks later."""
    zone = ZoneInfo(timezone_name)
    last = today + timedelta(weeks=weeks)
    stamp = datetime.combine(today, time(0), timezone.utc)
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Port Alder Police Department//Demo meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Port Alder PD community meetings (demo)")
    for meeting in MEETINGS:
        if meeting.nth is None:
            first = today + timedelta(days=(meeting.weekday - today.weekday()) % 7)
            event = _event(meeting, first, zone, f"{meeting.key}@{UID_DOMAIN}")
            until = datetime.combine(last, time(23, 59, 59), zone).astimezone(timezone.utc)
            event.add("rrule", {"freq": "weekly", "until": until})
            holidays = [datetime.combine(day, meeting.start, zone) for day in _weekdays(first, last)
                        if (day.month, day.day) in HOLIDAYS]
            if holidays:
                event.add("exdate", holidays)
            event.add("dtstamp", stamp)
            calendar.add_component(event)
            continue
        for year, month in _months(today, last):
            day = nth_weekday(year, month, meeting.weekday, meeting.nth)
            if day is None or not today <= day <= last:
                continue
            event = _event(meeting, day, zone, f"{meeting.key}-{day.isoformat()}@{UID_DOMAIN}")
            event.add("dtstamp", stamp)
            calendar.add_component(event)
    calendar.add_missing_timezones(date(today.year - 1, 1, 1), date(today.year + 2, 1, 1))
    return calendar.to_ical().decode("utf-8")

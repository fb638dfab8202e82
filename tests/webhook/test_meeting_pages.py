"""The public "add to calendar" file and the staff meeting pages (sign-in, masking, CSV)."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Callable
from urllib.parse import parse_qs, urlsplit

import icalendar
import pytest
from flask.testing import FlaskClient

from bot.services import Services
from bot.storage.models import Meeting
from tests.conftest import MutableClock
from tests.webhook.staff_client import add_account, sign_in, signed_in
from webhook.app import create_app

NOW = datetime(2026, 11, 24, 17, 0)
PASSWORD = "correct horse battery staple"


@pytest.fixture
def services(make_services: Callable[..., Services]) -> Services:
    services = make_services(MutableClock(NOW))
    add_account(services, "ana", PASSWORD)
    return services


@pytest.fixture
def anyone(services: Services) -> FlaskClient:
    """A browser that has not signed in (the public calendar file needs no sign-in)."""
    return create_app(services=services).test_client()


@pytest.fixture
def client(anyone: FlaskClient) -> FlaskClient:
    """Ana's browser, signed in."""
    signed_in(anyone, "ana", PASSWORD)
    return anyone


def meeting(services: Services, capacity: int | None = 1) -> Meeting:
    start = NOW + timedelta(days=2)
    m = Meeting(source_uid="uid-1", title="Town Hall North", kind="town_hall", starts_at=start,
                ends_at=start + timedelta(hours=1), timezone="America/Los_Angeles", address="12 Elm St, Port Alder",
                capacity=capacity, seats_taken=0, languages="en", status="scheduled", version=1, created_at=NOW,
                updated_at=NOW)
    with services.db.session() as session:
        session.add(m)
    return m


def signed_up(services: Services, m: Meeting, number: str, name: str) -> None:
    conversation = services.conversations.get_or_create("sms", number[-4:], number)
    services.meeting_service.signups.register(m.id, conversation.id, name, 2, True)


def goes_to_sign_in(response, path: str) -> bool:  # type: ignore[no-untyped-def]
    location = urlsplit(response.headers.get("Location", ""))
    return (response.status_code == 303 and location.path == "/staff/sign-in"
            and parse_qs(location.query).get("next") == [path])


def test_the_calendar_file_has_the_meeting_and_no_personal_data(anyone: FlaskClient, services: Services) -> None:
    m = meeting(services)
    signed_up(services, m, "+15035550111", "Ana Ruiz")
    response = anyone.get(f"/meetings/{m.id}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    [event] = icalendar.Calendar.from_ical(response.data).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Town Hall North"
    assert event.decoded("DTSTART").replace(tzinfo=None) == m.starts_at
    assert b"Ana" not in response.data and b"0111" not in response.data
    assert anyone.get("/meetings/999.ics").status_code == 404


def test_meeting_pages_require_sign_in(anyone: FlaskClient, services: Services) -> None:
    m = meeting(services)
    signed_up(services, m, "+15035550111", "Ana Ruiz")
    paths = ["/staff/meetings", f"/staff/meetings/{m.id}", f"/staff/meetings/{m.id}/roster.csv"]
    for path in paths:
        response = anyone.get(path, headers={"Accept": "text/html"})
        assert goes_to_sign_in(response, path), (path, response.status_code)
        assert response.headers["Cache-Control"] == "no-store"
        assert b"Ana Ruiz" not in response.data and b"0111" not in response.data
        response = anyone.get(path, headers={"Accept": "text/csv"})  # a download, not a browser page
        assert response.status_code == 401 and b"Ana Ruiz" not in response.data, path
    for user, password in (("ana", "wrong password!"), ("bob", PASSWORD)):
        assert sign_in(anyone, user, password).status_code == 401
        assert goes_to_sign_in(anyone.get("/staff/meetings"), "/staff/meetings")
    signed_in(anyone, "ana", PASSWORD)
    for path in paths:
        assert anyone.get(path).status_code == 200, path


def test_no_way_in_without_an_account(make_services: Callable[..., Services]) -> None:
    c = create_app(services=make_services(MutableClock(NOW))).test_client()
    assert sign_in(c, "ana", PASSWORD).status_code == 401
    assert goes_to_sign_in(c.get("/staff/meetings"), "/staff/meetings")


def test_roster_shows_names_party_waitlist_and_masked_contacts(client: FlaskClient, services: Services) -> None:
    m = meeting(services, capacity=2)
    signed_up(services, m, "+15035550111", "Ana <b>Ruiz</b>")
    signed_up(services, m, "+15035550122", "=HYPERLINK(\"http://evil\")")
    page = client.get(f"/staff/meetings/{m.id}")
    html = page.get_data(as_text=True)
    assert "Ana &lt;b&gt;Ruiz&lt;/b&gt;" in html and "***-***-0111" in html and "+15035550111" not in html
    assert "registered" in html and "waitlisted" in html
    assert page.headers["Cache-Control"] == "no-store"

    listing = client.get("/staff/meetings").get_data(as_text=True)
    assert "Town Hall North" in listing and "2 of 2" in listing

    export = client.get(f"/staff/meetings/{m.id}/roster.csv")
    assert export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [(r["name"], r["party_size"], r["status"], r["contact"]) for r in rows] == [
        ("Ana <b>Ruiz</b>", "2", "registered", "***-***-0111"),
        ("'=HYPERLINK(\"http://evil\")", "2", "waitlisted", "***-***-0122"),
    ]

"""The public "add to calendar" file and the staff meeting pages (sign-in, masking, CSV)."""
from __future__ import annotations

import base64
import csv
import io
from datetime import datetime, timedelta
from typing import Callable, Iterator

import icalendar
import pytest
from flask.testing import FlaskClient

from bot.services import Services
from bot.staff_auth import StaffAccounts, hash_password
from bot.storage.models import Meeting
from tests.conftest import MutableClock
from webhook.app import create_app

NOW = datetime(2026, 11, 24, 17, 0)
PASSWORD = "correct horse battery staple"


@pytest.fixture
def services(make_services: Callable[..., Services]) -> Services:
    return make_services(MutableClock(NOW), staff_accounts=f"ana:{hash_password(PASSWORD)}")


@pytest.fixture
def client(services: Services) -> Iterator[FlaskClient]:
    with create_app(services=services).test_client() as c:
        yield c


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


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_the_calendar_file_has_the_meeting_and_no_personal_data(client: FlaskClient, services: Services) -> None:
    m = meeting(services)
    signed_up(services, m, "+15035550111", "Ana Ruiz")
    response = client.get(f"/meetings/{m.id}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    [event] = icalendar.Calendar.from_ical(response.data).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Town Hall North"
    assert event.decoded("DTSTART").replace(tzinfo=None) == m.starts_at
    assert b"Ana" not in response.data and b"0111" not in response.data
    assert client.get("/meetings/999.ics").status_code == 404


def test_staff_pages_need_a_valid_sign_in(client: FlaskClient, services: Services) -> None:
    m = meeting(services)
    for headers in ({}, basic("ana", "wrong password"), basic("bob", PASSWORD)):
        response = client.get(f"/staff/meetings/{m.id}", headers=headers)
        assert response.status_code == 401 and "Basic" in response.headers["WWW-Authenticate"]
    assert client.get("/staff/meetings", headers=basic("ana", PASSWORD)).status_code == 200


def test_closed_when_no_staff_account_is_configured(make_services: Callable[..., Services]) -> None:
    services = make_services(MutableClock(NOW))
    with create_app(services=services).test_client() as c:
        assert c.get("/staff/meetings", headers=basic("ana", PASSWORD)).status_code == 404


def test_roster_shows_names_party_waitlist_and_masked_contacts(client: FlaskClient, services: Services) -> None:
    m = meeting(services, capacity=2)
    signed_up(services, m, "+15035550111", "Ana <b>Ruiz</b>")
    signed_up(services, m, "+15035550122", "=HYPERLINK(\"http://evil\")")
    page = client.get(f"/staff/meetings/{m.id}", headers=basic("ana", PASSWORD))
    html = page.get_data(as_text=True)
    assert "Ana &lt;b&gt;Ruiz&lt;/b&gt;" in html and "***-***-0111" in html and "+15035550111" not in html
    assert "registered" in html and "waitlisted" in html
    assert page.headers["Cache-Control"] == "no-store"

    listing = client.get("/staff/meetings", headers=basic("ana", PASSWORD)).get_data(as_text=True)
    assert "Town Hall North" in listing and "2 of 2" in listing

    export = client.get(f"/staff/meetings/{m.id}/roster.csv", headers=basic("ana", PASSWORD))
    assert export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [(r["name"], r["party_size"], r["status"], r["contact"]) for r in rows] == [
        ("Ana <b>Ruiz</b>", "2", "registered", "***-***-0111"),
        ("'=HYPERLINK(\"http://evil\")", "2", "waitlisted", "***-***-0122"),
    ]


def test_accounts_setting_accepts_only_argon2id_hashes() -> None:
    accounts = StaffAccounts.parse(f"ana:{hash_password(PASSWORD)}, bob:plaintext, :x")
    assert list(accounts.hashes) == ["ana"]
    assert accounts.verify("ana", PASSWORD) and not accounts.verify("ana", "nope") and not accounts.verify("bob", "x")

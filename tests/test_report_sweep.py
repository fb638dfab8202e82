"""Reports after filing, as the sweeper runs them with the real Services: forwarding to a local
GeoReport v2 server (with a photo link the server can fetch), an outage, a rejection the
resident hears about, status polling, and the closing text; with the local system, a staff
close still reaches the resident."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

import pytest

from bot.reports.places import Place
from bot.reports.service import ReportDraft
from bot.reports.times import When
from bot.services import Services
from bot.storage.models import OutboxState, ReportStatus
from bot.sweeper import POLL_KEY, sweep
from tests.conftest import MutableClock
from tests.fakes.media import SID, TOKEN, FakeMediaHost, gps_jpeg
from tests.fakes.open311 import FakeOpen311
from tests.phone import Phone
from webhook.app import create_app

NOW = datetime(2026, 11, 24, 18, 0)  # 10:00 in Port Alder: not quiet hours
PUBLIC = "https://assistant.portalder.example"


@pytest.fixture
def open311(open311_server: FakeOpen311) -> Iterator[FakeOpen311]:
    open311_server.reset()
    yield open311_server
    open311_server.release()


def _services(make_services: Callable[..., Services], tmp_path: Path, **overrides: object) -> Services:
    services = make_services(MutableClock(NOW), twilio_account_sid=SID, twilio_auth_token=TOKEN,
                             report_photo_dir=tmp_path / "photos", public_base_url=PUBLIC, **overrides)
    services.redis.delete(POLL_KEY)
    return services


@pytest.fixture
def forwarding(make_services: Callable[..., Services], tmp_path: Path, open311: FakeOpen311) -> Services:
    return _services(make_services, tmp_path, open311_base_url=open311.base_url, open311_api_key=open311.api_key,
                     open311_service_codes={"graffiti": "GRF-01", "abandoned_vehicle": "AV", "noise": "NOISE"},
                     open311_attributes={"NOISE.WHEN": "when_text"})


def _file(services: Services, phone: Phone, kind: str = "graffiti", follow_up: bool = True,
          anonymous: bool = False, when: When | None = None):  # type: ignore[no-untyped-def]
    phone.send("hi")  # the conversation exists (as after any text)
    return services.report_service.file(phone.conversation.id, ReportDraft(
        report_type=kind, place=Place("intersection", "Main St & 5th Ave", ("Main", "5th")),
        description="tags sprayed across the wall", anonymous=anonymous, follow_up=follow_up, when=when,
        started_at=services.clock.now()))


def _texts(services: Services, phone: Phone) -> list[str]:
    return [m.text for m in phone.outbound() if m.author == "system"]


def test_a_report_goes_upstream_with_a_photo_link_the_server_can_fetch_and_its_closing_is_texted(
        forwarding: Services, open311: FakeOpen311, media_host: FakeMediaHost) -> None:
    services = forwarding
    phone = Phone(services)
    phone.send("", media=[media_host.put("wall.jpg", gps_jpeg())])
    message = services.messages.next_pending(phone.conversation.id)
    assert message is not None and services.media.take(message.id).stored == 1
    report = _file(services, phone)
    assert services.report_store.outbox(report.id).state == OutboxState.PENDING

    sweep(services)
    [created] = open311.created
    assert created.service_code == "GRF-01" and created.value("phone") == phone.number
    assert f"[{report.reference}]" in (created.value("description") or "")
    link = created.value("media_url") or ""
    assert link.startswith(f"{PUBLIC}/reports/photos/")
    client = create_app(services=services).test_client()
    parts = urlsplit(link)
    fetched = client.get(f"{parts.path}?{parts.query}")
    assert fetched.status_code == 200 and fetched.data[:2] == b"\xff\xd8" and fetched.mimetype == "image/jpeg"
    assert client.get(parts.path).status_code == 404  # unsigned
    assert client.get(f"{parts.path}?sig={'0' * 32}").status_code == 404  # wrongly signed
    assert services.report_store.get(report.id).status == ReportStatus.OPEN  # sent, then polled: open upstream

    services.redis.delete(POLL_KEY)  # the next poll is due
    open311.set_status(created.request_id or "", "closed", "Painted over on Nov 25.")
    sweep(services)
    assert services.report_store.get(report.id).status == ReportStatus.CLOSED
    assert _texts(services, phone) == [
        f"Update on your report {report.reference} (Graffiti): it's closed. Painted over on Nov 25."]
    services.redis.delete(POLL_KEY)
    sweep(services)  # polled again later: no second text
    assert len(_texts(services, phone)) == 1


def test_an_outage_keeps_the_report_and_a_later_sweep_sends_it_once(
        forwarding: Services, open311: FakeOpen311) -> None:
    services = forwarding
    report = _file(services, Phone(services))
    open311.fail_next(1)
    sweep(services)
    assert open311.created == [] and services.report_store.get(report.id).status == ReportStatus.RECEIVED
    services.clock.advance(minutes=2)
    sweep(services)
    sweep(services)
    assert len(open311.created) == 1 and services.report_store.get(report.id).status == ReportStatus.FORWARDED


def test_a_rejected_report_is_told_to_the_resident_and_shown_to_staff(
        forwarding: Services, open311: FakeOpen311) -> None:
    services = forwarding
    phone = Phone(services)
    report = _file(services, phone, kind="vandalism")  # no service code for it: the system cannot take it
    sweep(services)
    assert services.report_store.get(report.id).status == ReportStatus.REJECTED
    assert _texts(services, phone) == [
        f"We couldn't pass report {report.reference} to the department's system. Staff will look at it. "
        f"For anything urgent, call {services.profile.non_emergency_phone}."]


def test_with_the_local_system_a_staff_close_reaches_the_resident_who_asked(
        make_services: Callable[..., Services], tmp_path: Path) -> None:
    services = _services(make_services, tmp_path)
    asked, anonymous = Phone(services), Phone(services)
    mine = _file(services, asked)
    theirs = _file(services, anonymous, anonymous=True)
    sweep(services)
    assert services.report_store.outbox(mine.id) is None  # nothing to forward
    services.report_store.set_status(mine.id, ReportStatus.CLOSED, "Towed on Nov 24.")
    services.report_store.set_status(theirs.id, ReportStatus.CLOSED)
    sweep(services)
    assert _texts(services, asked) == [f"Update on your report {mine.reference} (Graffiti): it's closed. Towed on Nov 24."]
    assert _texts(services, anonymous) == []


def test_a_service_attribute_is_answered_from_the_report_when_configured(
        forwarding: Services, open311: FakeOpen311) -> None:
    services = forwarding
    last_night = When(datetime(2026, 11, 24, 6, 0, tzinfo=timezone.utc), "last night around 10", True)
    report = _file(services, Phone(services), kind="noise", when=last_night)
    sweep(services)
    [created] = open311.created  # NOISE requires attribute[WHEN]: without it the server refuses the report
    assert created.service_code == "NOISE" and created.value("attribute[WHEN]") == "last night around 10"
    assert services.report_store.get(report.id).status in (ReportStatus.FORWARDED, ReportStatus.OPEN)

"""Staff report pages: sign-in, filters in local time, detail with masked (or no) contact,
photos served only for their own report, CSRF-protected status changes and review release,
and a CSV export without formulas or phone numbers."""
from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterator

import pytest
from flask.testing import FlaskClient
from PIL import Image

from bot.reports.photos import LocalPhotoStore, clean_photo
from bot.reports.store import ReportStore
from bot.services import Services
from bot.staff_auth import hash_password
from bot.storage.models import OutboxState, Report, ReportStatus
from tests.conftest import MutableClock
from webhook.app import create_app
from webhook.staff_reports import CSV_COLUMNS, NOTES_MAX

NOW = datetime(2026, 11, 24, 17, 0)  # 09:00 PST in Port Alder (America/Los_Angeles)
PASSWORD = "correct horse battery staple"
BOB_PASSWORD = "another long staff password"
NUMBER = "+15035550142"


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(NOW)


@pytest.fixture
def services(make_services: Callable[..., Services], clock: MutableClock, tmp_path: Path) -> Services:
    accounts = f"ana:{hash_password(PASSWORD)},bob:{hash_password(BOB_PASSWORD)}"
    return make_services(clock, staff_accounts=accounts, report_photo_dir=tmp_path / "photos")


@pytest.fixture
def client(services: Services) -> Iterator[FlaskClient]:
    with create_app(services=services).test_client() as c:
        yield c


def basic(user: str = "ana", password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def conversation_id(services: Services, number: str = NUMBER, channel: str = "sms") -> int:
    address_hash = hashlib.sha256(f"{channel}:{number}".encode()).hexdigest()[:40]
    return services.conversations.get_or_create(channel, address_hash, number).id


def file_report(services: Services, description: str = "Car alarm going off for an hour", **kwargs: object) -> Report:
    cid = kwargs.pop("conversation", None) or conversation_id(services)
    kwargs.setdefault("report_type", "noise")
    report_type = kwargs.pop("report_type")
    return services.report_store.create(cid, report_type, description, **kwargs)  # type: ignore[arg-type]


def jpeg_bytes(color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, "JPEG")
    return out.getvalue()


def attach_photo(services: Services, report: Report, color: tuple[int, int, int] = (200, 30, 30)) -> str:
    photo = clean_photo(jpeg_bytes(color))
    key = LocalPhotoStore(services.settings.report_photo_dir).save(photo)
    services.report_store.add_photo(report.id, key, photo.content_type, photo.width, photo.height)
    return key


def page(client: FlaskClient, path: str, **kwargs: object) -> str:
    response = client.get(path, headers=basic(), **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def token_on(client: FlaskClient, report_id: int, user: str = "ana", password: str = PASSWORD) -> str:
    html = client.get(f"/staff/reports/{report_id}", headers=basic(user, password)).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, "the detail page carries a CSRF token"
    return match.group(1)


def refs(html: str) -> set[str]:
    return set(re.findall(r">(R-\d+)</a>", html))


# -- sign-in ---------------------------------------------------------------------------------

def test_every_report_page_needs_a_valid_sign_in(client: FlaskClient, services: Services) -> None:
    report = file_report(services)
    key = attach_photo(services, report)
    paths = ["/staff/reports", f"/staff/reports/{report.id}", f"/staff/reports/{report.id}/photos/{key}",
             "/staff/reports.csv"]
    for headers in ({}, basic("ana", "wrong password"), basic("mallory", PASSWORD)):
        for path in paths:
            response = client.get(path, headers=headers)
            assert response.status_code == 401 and "Basic" in response.headers["WWW-Authenticate"], path
            assert b"Car alarm" not in response.data
        for action in ("status", "release"):
            response = client.post(f"/staff/reports/{report.id}/{action}", headers=headers,
                                   data={"status": "closed"})
            assert response.status_code == 401
    assert services.report_store.get(report.id).status == ReportStatus.RECEIVED


def test_closed_when_no_staff_account_is_configured(make_services: Callable[..., Services]) -> None:
    services = make_services(MutableClock(NOW))
    with create_app(services=services).test_client() as c:
        assert c.get("/staff/reports", headers=basic()).status_code == 404


def test_staff_navigation_links_to_reports(client: FlaskClient) -> None:
    assert 'href="/staff/reports"' in page(client, "/staff/meetings")
    assert 'href="/staff/meetings"' in page(client, "/staff/reports")


# -- the list --------------------------------------------------------------------------------

def test_list_shows_newest_first_in_local_time_with_review_and_outbox(client: FlaskClient, services: Services,
                                                                       clock: MutableClock) -> None:
    first = file_report(services, place_text="12 Elm St", forward=True)
    clock.advance(minutes=5)  # not yet "stuck": the list table is the only place it shows
    held = file_report(services, "Tall man in a hoodie", report_type="suspicious_activity",
                       review_reason="appearance only", forward=True)
    response = client.get("/staff/reports", headers=basic())
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert html.index(held.reference) < html.index(first.reference)
    assert "2026-11-24 09:00 PST" in html and "2026-11-24 09:05 PST" in html
    assert "12 Elm St" in html and "held" in html
    assert OutboxState.PENDING in html and "not queued" in html  # the held report was never queued


def test_filters_by_type_status_review_and_local_dates(client: FlaskClient, services: Services,
                                                       clock: MutableClock) -> None:
    clock.current = datetime(2026, 11, 25, 7, 30)  # 23:30 on Nov 24 in Port Alder
    late = file_report(services)
    clock.current = datetime(2026, 11, 25, 8, 30)  # 00:30 on Nov 25
    graffiti = file_report(services, "Tag on the wall", report_type="graffiti")
    held = file_report(services, "Someone in a red hat", report_type="suspicious_activity",
                       review_reason="appearance only")
    services.report_store.set_status(graffiti.id, ReportStatus.CLOSED)

    assert refs(page(client, "/staff/reports?type=graffiti")) == {graffiti.reference}
    assert refs(page(client, "/staff/reports?status=closed")) == {graffiti.reference}
    assert refs(page(client, "/staff/reports?status=received&type=noise")) == {late.reference}
    assert refs(page(client, "/staff/reports?review=yes")) == {held.reference}
    assert refs(page(client, "/staff/reports?review=no")) == {late.reference, graffiti.reference}
    # Dates are the department's calendar days, not UTC's.
    assert refs(page(client, "/staff/reports?to=2026-11-24")) == {late.reference}
    assert refs(page(client, "/staff/reports?from=2026-11-25")) == {graffiti.reference, held.reference}
    assert refs(page(client, "/staff/reports?from=2026-11-24&to=2026-11-24")) == {late.reference}
    assert refs(page(client, "/staff/reports?from=&to=&type=&status=&review=")) == {
        late.reference, graffiti.reference, held.reference}


@pytest.mark.parametrize("query", [
    "type=%3Cscript%3E", "type=" + "x" * 41, "status=lost", "from=2026-13-01", "to=yesterday",
    "from=0001-01-01", "to=9999-12-31", "review=maybe", "page=0", "page=-1", "page=abc", "page=99999999999999",
    "from=%00",
])
def test_bad_filters_are_a_400_never_a_500(client: FlaskClient, services: Services, query: str) -> None:
    file_report(services)
    for path in ("/staff/reports", "/staff/reports.csv"):
        assert client.get(f"{path}?{query}", headers=basic()).status_code == 400, (path, query)


def test_paging(client: FlaskClient, services: Services, clock: MutableClock) -> None:
    made = []
    for _ in range(52):
        made.append(file_report(services).reference)
        clock.advance(minutes=1)
    first = page(client, "/staff/reports")
    assert len(refs(first)) == 50 and made[-1] in refs(first) and "page=2" in first
    second = page(client, "/staff/reports?page=2")
    assert refs(second) == set(made[:2]) and "Older" not in second and "Newer" in second
    assert refs(page(client, "/staff/reports?page=3")) == set()


def test_stuck_reports_show_after_fifteen_minutes(client: FlaskClient, services: Services,
                                                  clock: MutableClock) -> None:
    report = file_report(services, forward=True)
    assert "Not forwarded" not in page(client, "/staff/reports")
    clock.advance(minutes=16)
    html = page(client, "/staff/reports")
    assert "Not forwarded after 15 minutes (1)" in html
    stuck_section = html.split("</section>")[0]
    assert report.reference in stuck_section and OutboxState.PENDING in stuck_section


def test_a_report_failing_again_and_again_shows_while_it_waits_for_its_next_retry(
        client: FlaskClient, services: Services, clock: MutableClock) -> None:
    report = file_report(services, forward=True)
    store = services.report_store
    for _ in range(5):
        [item] = store.claim_due(clock.now())
        assert item.report.id == report.id
        store.mark_retry(report.id, "not sent: HTTP 503", clock.now() + timedelta(seconds=1))
        clock.advance(seconds=2)
    store.claim_due(clock.now())
    store.mark_retry(report.id, "not sent: HTTP 503", clock.now() + timedelta(hours=1))  # due later
    stuck_section = page(client, "/staff/reports").split("</section>")[0]
    assert "Not forwarded" in stuck_section and report.reference in stuck_section


# -- the detail page -------------------------------------------------------------------------

def test_detail_shows_everything_staff_need_with_a_masked_contact(client: FlaskClient, services: Services) -> None:
    report = file_report(services, place_text="Elm St & 3rd Ave", occurred_at=datetime(2026, 11, 24, 6, 0),
                         occurred_text="last night around 10", follow_up_consent=True, forward=True)
    key = attach_photo(services, report)
    services.report_store.set_status(report.id, ReportStatus.OPEN, "Patrol notified")
    html = page(client, f"/staff/reports/{report.id}")
    assert "Car alarm going off for an hour" in html and "Elm St &amp; 3rd Ave" in html
    assert "last night around 10" in html and "2026-11-23 22:00 PST" in html
    assert "Patrol notified" in html and ">open<" in html.replace("</dd>", "<")
    assert "***-***-0142" in html and NUMBER not in html and "5035550142" not in html
    assert f'src="/staff/reports/{report.id}/photos/{key}"' in html
    assert "pending, 0 attempts" in html


def test_anonymous_report_shows_no_contact_at_all(client: FlaskClient, services: Services) -> None:
    report = file_report(services, anonymous=True)
    html = page(client, f"/staff/reports/{report.id}")
    assert "anonymous" in html and "0142" not in html and "***" not in html


def test_web_chat_contact_is_named_not_shown(client: FlaskClient, services: Services) -> None:
    cid = conversation_id(services, "0123abcd" * 8, channel="web")
    report = file_report(services, conversation=cid)
    html = page(client, f"/staff/reports/{report.id}")
    assert "web chat" in html and "0123abcd" not in html


def test_resident_text_is_escaped(client: FlaskClient, services: Services) -> None:
    report = file_report(services, '<script>alert("x")</script> broke a window',
                         place_text="<img src=x onerror=alert(1)>", occurred_text="<b>now</b>")
    for html in (page(client, f"/staff/reports/{report.id}"), page(client, "/staff/reports")):
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>now</b>" not in html
    detail = page(client, f"/staff/reports/{report.id}")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; broke a window" in detail
    assert "&lt;img src=x onerror=alert(1)&gt;" in detail


def test_unknown_report_is_a_404(client: FlaskClient, services: Services) -> None:
    assert client.get("/staff/reports/999", headers=basic()).status_code == 404
    assert client.get("/staff/reports/abc", headers=basic()).status_code == 404


# -- photos ----------------------------------------------------------------------------------

def test_photo_is_served_only_for_its_own_report(client: FlaskClient, services: Services) -> None:
    mine, other = file_report(services), file_report(services, "Other")
    key = attach_photo(services, mine)
    other_key = attach_photo(services, other, color=(10, 120, 10))
    response = client.get(f"/staff/reports/{mine.id}/photos/{key}", headers=basic())
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.data == (services.settings.report_photo_dir / key).read_bytes()
    assert Image.open(io.BytesIO(response.data)).size == (64, 48)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"

    assert client.get(f"/staff/reports/{mine.id}/photos/{other_key}", headers=basic()).status_code == 404
    assert client.get(f"/staff/reports/{other.id}/photos/{key}", headers=basic()).status_code == 404
    assert client.get(f"/staff/reports/999/photos/{key}", headers=basic()).status_code == 404


@pytest.mark.parametrize("bad", [
    "..%2F..%2F..%2Fetc%2Fpasswd", "../assistant.db", "%2e%2e", "not-a-key.jpg", "a" * 64 + ".gif",
    "0" * 64 + ".jpg", ".incoming-x.tmp",
])
def test_bad_photo_keys_are_a_404(client: FlaskClient, services: Services, bad: str) -> None:
    report = file_report(services)
    attach_photo(services, report)
    response = client.get(f"/staff/reports/{report.id}/photos/{bad}", headers=basic())
    assert response.status_code == 404


def test_a_recorded_photo_missing_from_disk_is_a_404(client: FlaskClient, services: Services) -> None:
    report = file_report(services)
    key = attach_photo(services, report)
    (services.settings.report_photo_dir / key).unlink()
    assert client.get(f"/staff/reports/{report.id}/photos/{key}", headers=basic()).status_code == 404


# -- status changes and release (CSRF) -------------------------------------------------------

def test_status_change_needs_the_csrf_token(client: FlaskClient, services: Services) -> None:
    report = file_report(services)
    url = f"/staff/reports/{report.id}/status"
    for data in ({"status": "closed"}, {"status": "closed", "csrf_token": "0" * 64},
                 {"status": "closed", "csrf_token": "é"}):
        assert client.post(url, headers=basic(), data=data).status_code == 403
    bobs = token_on(client, report.id, "bob", BOB_PASSWORD)
    assert client.post(url, headers=basic(), data={"status": "closed", "csrf_token": bobs}).status_code == 403
    assert services.report_store.get(report.id).status == ReportStatus.RECEIVED

    token = token_on(client, report.id)
    response = client.post(url, headers={**basic(), "Origin": "http://localhost"},
                           data={"status": "closed", "notes": "  Officer spoke with the neighbour ", "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/staff/reports/{report.id}")
    changed = services.report_store.get(report.id)
    assert changed.status == ReportStatus.CLOSED and changed.status_notes == "Officer spoke with the neighbour"
    assert changed.closed_at is not None


def test_status_change_rejects_cross_site_posts(client: FlaskClient, services: Services) -> None:
    report = file_report(services)
    token = token_on(client, report.id)
    url = f"/staff/reports/{report.id}/status"
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"},
                    {"Origin": "http://localhost.evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        response = client.post(url, headers={**basic(), **headers}, data={"status": "closed", "csrf_token": token})
        assert response.status_code == 403, headers
    assert services.report_store.get(report.id).status == ReportStatus.RECEIVED


def test_status_change_checks_its_values(client: FlaskClient, services: Services) -> None:
    report = file_report(services)
    token = token_on(client, report.id)
    url = f"/staff/reports/{report.id}/status"
    assert client.post(url, headers=basic(), data={"status": "lost", "csrf_token": token}).status_code == 400
    assert client.post(url, headers=basic(), data={"csrf_token": token}).status_code == 400
    too_long = {"status": "open", "notes": "x" * (NOTES_MAX + 1), "csrf_token": token}
    assert client.post(url, headers=basic(), data=too_long).status_code == 400
    assert services.report_store.get(report.id).status == ReportStatus.RECEIVED
    ok = {"status": "open", "notes": "x" * NOTES_MAX, "csrf_token": token}
    assert client.post(url, headers=basic(), data=ok).status_code == 303
    assert client.post("/staff/reports/999/status", headers=basic(), data=ok).status_code == 404


def test_release_from_review_queues_the_report(client: FlaskClient, services: Services) -> None:
    report = file_report(services, "Someone in a red hat", report_type="suspicious_activity",
                         review_reason="appearance only", forward=True)
    store: ReportStore = services.report_store
    assert store.outbox(report.id) is None
    html = page(client, f"/staff/reports/{report.id}")
    assert "Held for review" in html and "appearance only" in html

    url = f"/staff/reports/{report.id}/release"
    assert client.post(url, headers=basic()).status_code == 403
    assert client.post(url, headers={**basic(), "Origin": "https://evil.example"},
                       data={"csrf_token": token_on(client, report.id)}).status_code == 403
    assert store.outbox(report.id) is None and store.get(report.id).review_reason == "appearance only"

    response = client.post(url, headers=basic(), data={"csrf_token": token_on(client, report.id)})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/staff/reports/{report.id}")
    outbox = store.outbox(report.id)
    assert outbox is not None and outbox.state == OutboxState.PENDING
    assert store.get(report.id).review_reason is None
    assert "Held for review" not in page(client, f"/staff/reports/{report.id}")
    # A second click (another tab) changes nothing and is not an error.
    again = client.post(url, headers=basic(), data={"csrf_token": token_on(client, report.id)})
    assert again.status_code == 303 and store.outbox(report.id).id == outbox.id


# -- CSV -------------------------------------------------------------------------------------

def test_csv_export_has_filters_no_formulas_and_no_phone_numbers(client: FlaskClient, services: Services,
                                                                 clock: MutableClock) -> None:
    file_report(services, "=HYPERLINK(\"http://evil.example\",\"click\")", place_text="+1 Main St",
                occurred_at=datetime(2026, 11, 24, 6, 0), occurred_text="@ night", follow_up_consent=True)
    clock.advance(minutes=5)
    file_report(services, "-2+3", anonymous=True, report_type="graffiti")
    response = client.get("/staff/reports.csv?type=noise", headers=basic())
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert "0142" not in text and "5035550142" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == CSV_COLUMNS
    assert len(rows) == 1
    [row] = rows
    assert row["description"] == "'=HYPERLINK(\"http://evil.example\",\"click\")"
    assert row["place"] == "'+1 Main St" and row["occurred_text"] == "'@ night"
    assert row["created_local"] == "2026-11-24 09:00 PST" and row["occurred_local"] == "2026-11-23 22:00 PST"
    assert row["reference"] == "R-1000" and row["type"] == "noise" and row["status"] == "received"
    assert row["anonymous"] == "no" and row["follow_up_consent"] == "yes"

    everything = list(csv.DictReader(io.StringIO(
        client.get("/staff/reports.csv", headers=basic()).get_data(as_text=True))))
    assert [r["reference"] for r in everything] == ["R-1001", "R-1000"]
    assert everything[0]["description"] == "'-2+3" and everything[0]["anonymous"] == "yes"


def test_csv_link_keeps_the_list_filters(client: FlaskClient, services: Services) -> None:
    file_report(services)
    html = page(client, "/staff/reports?type=noise&status=received&review=no")
    link = re.search(r'href="(/staff/reports\.csv\?[^"]+)"', html)
    assert link is not None
    for part in ("type=noise", "status=received", "review=no"):
        assert part in link.group(1)


def test_timestamps_cross_daylight_saving(client: FlaskClient, services: Services, clock: MutableClock) -> None:
    clock.current = datetime(2026, 7, 4, 19, 0)  # 12:00 PDT
    report = file_report(services)
    assert "2026-07-04 12:00 PDT" in page(client, f"/staff/reports/{report.id}")

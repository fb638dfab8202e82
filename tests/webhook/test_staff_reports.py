"""Staff report pages: sign-in, filters in local time, detail with masked (or no) contact,
photos served only for their own report, CSRF-protected status changes and review release
(written to the audit log), and a CSV export without formulas or phone numbers."""
from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from bot.reports.photos import LocalPhotoStore, clean_photo
from bot.reports.store import ReportStore
from bot.services import Services
from bot.staff.audit import Action, AuditQuery
from bot.storage.models import AuditEntry, OutboxState, Report, ReportStatus
from tests.conftest import MutableClock
from tests.webhook.staff_client import add_account, form_token, sign_in, signed_in
from webhook.app import create_app
from webhook.staff_reports import CSV_COLUMNS, NOTES_MAX

NOW = datetime(2026, 11, 24, 17, 0)  # 09:00 PST in Port Alder (America/Los_Angeles)
PASSWORD = "correct horse battery staple"
BOB_PASSWORD = "another long staff password"
NUMBER = "+15035550142"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(NOW)


@pytest.fixture
def services(make_services: Callable[..., Services], clock: MutableClock, tmp_path: Path) -> Services:
    services = make_services(clock, report_photo_dir=tmp_path / "photos")
    add_account(services, "ana", PASSWORD)
    add_account(services, "bob", BOB_PASSWORD)
    return services


@pytest.fixture
def staff_app(services: Services) -> Flask:
    return create_app(services=services)


# One test client per browser. Not `with client:`: a client kept "in context" would lend its
# request's `g` (and so its signed-in user) to the next client's request.
@pytest.fixture
def signed_out(staff_app: Flask) -> FlaskClient:
    return staff_app.test_client()


@pytest.fixture
def client(staff_app: Flask) -> FlaskClient:
    """Ana's browser, signed in."""
    c = staff_app.test_client()
    signed_in(c, "ana", PASSWORD)
    return c


@pytest.fixture
def bob(staff_app: Flask) -> FlaskClient:
    """Bob's browser (another session of the same console), signed in."""
    c = staff_app.test_client()
    signed_in(c, "bob", BOB_PASSWORD)
    return c


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
    response = client.get(path, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def token_on(client: FlaskClient, report_id: int) -> str:
    """The CSRF token the detail page's forms carry (the session's)."""
    return form_token(page(client, f"/staff/reports/{report_id}"))


def refs(html: str) -> set[str]:
    return set(re.findall(r">(R-\d+)</a>", html))


def audit(services: Services, action: str) -> list[AuditEntry]:
    return services.audit.entries(AuditQuery(action=action))


def goes_to_sign_in(response, path: str) -> bool:  # type: ignore[no-untyped-def]
    """A 303 to the sign-in page, which brings the person back to `path` afterwards."""
    if response.status_code != 303:
        return False
    location = urlsplit(response.headers["Location"])
    return location.path == "/staff/sign-in" and parse_qs(location.query).get("next") == [path]


# -- sign-in ---------------------------------------------------------------------------------

def test_signed_out_pages_go_to_sign_in_and_show_nothing(signed_out: FlaskClient, services: Services) -> None:
    report = file_report(services)
    key = attach_photo(services, report)
    paths = ["/staff/reports", f"/staff/reports/{report.id}", f"/staff/reports/{report.id}/photos/{key}",
             "/staff/reports.csv", "/staff/reports?type=noise"]
    for path in paths:
        response = signed_out.get(path, headers=HTML)  # a person following a link
        assert goes_to_sign_in(response, path), (path, response.status_code, response.headers.get("Location"))
        assert b"Car alarm" not in response.data and b"0142" not in response.data
        # An <img>, a download or a script does not understand a sign-in page: a plain 401.
        for accept in ("image/avif,image/webp,*/*", "text/csv", "application/json"):
            response = signed_out.get(path, headers={"Accept": accept})
            assert response.status_code == 401, (path, accept)
            assert b"Car alarm" not in response.data and b"0142" not in response.data
    sign_in_page = signed_out.get(f"/staff/reports/{report.id}", headers=HTML, follow_redirects=True)
    assert sign_in_page.status_code == 200 and 'name="password"' in sign_in_page.get_data(as_text=True)
    for action in ("status", "release"):
        response = signed_out.post(f"/staff/reports/{report.id}/{action}", headers=HTML,
                                   data={"status": "closed", "csrf_token": "x"})
        assert response.status_code == 401
    assert services.report_store.get(report.id).status == ReportStatus.RECEIVED
    assert audit(services, Action.REPORT_STATUS) == [] and audit(services, Action.REPORT_RELEASE) == []


def test_a_wrong_password_or_an_unknown_name_does_not_sign_in(signed_out: FlaskClient, services: Services) -> None:
    report = file_report(services)
    for user, password in (("ana", "wrong password!"), ("mallory", PASSWORD), ("ana", BOB_PASSWORD)):
        assert sign_in(signed_out, user, password).status_code == 401
        assert goes_to_sign_in(signed_out.get(f"/staff/reports/{report.id}", headers=HTML),
                               f"/staff/reports/{report.id}")
        assert signed_out.post(f"/staff/reports/{report.id}/status", data={"status": "closed"}).status_code == 401
    assert services.report_store.get(report.id).status == ReportStatus.RECEIVED


def test_signing_in_leads_back_to_the_report_asked_for(signed_out: FlaskClient, services: Services) -> None:
    report = file_report(services)
    path = f"/staff/reports/{report.id}"
    sign_in_page = signed_out.get(signed_out.get(path, headers=HTML).headers["Location"])
    html = sign_in_page.get_data(as_text=True)
    response = signed_out.post("/staff/sign-in", data={"username": "ana", "password": PASSWORD, "next": path,
                                                       "csrf_token": form_token(html)})
    assert response.status_code == 303 and urlsplit(response.headers["Location"]).path == path
    assert "Car alarm going off for an hour" in page(signed_out, path)


def test_an_idle_session_has_to_sign_in_again(client: FlaskClient, services: Services, clock: MutableClock) -> None:
    report = file_report(services)
    path = f"/staff/reports/{report.id}"
    assert "Car alarm" in page(client, path)
    clock.advance(minutes=services.settings.staff_idle_minutes)
    response = client.get(path, headers=HTML)
    assert goes_to_sign_in(response, path) and b"Car alarm" not in response.data


def test_no_way_in_without_an_account(make_services: Callable[..., Services]) -> None:
    """A fresh installation has no staff account: no name and password opens the reports."""
    services = make_services(MutableClock(NOW))
    report = file_report(services)
    c = create_app(services=services).test_client()
    assert sign_in(c, "ana", PASSWORD).status_code == 401
    assert goes_to_sign_in(c.get("/staff/reports", headers=HTML), "/staff/reports")
    assert c.get(f"/staff/reports/{report.id}", headers={"Accept": "application/json"}).status_code == 401


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
    response = client.get("/staff/reports")
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
    signed_in(client, "ana", PASSWORD)  # the next morning's session (yesterday's has timed out)

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
        assert client.get(f"{path}?{query}").status_code == 400, (path, query)


def test_paging(client: FlaskClient, services: Services, clock: MutableClock) -> None:
    made = []
    for _ in range(52):
        made.append(file_report(services).reference)
        clock.advance(minutes=1)
    signed_in(client, "ana", PASSWORD)  # the 52 minutes outlasted the idle timeout
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
    assert client.get("/staff/reports/999").status_code == 404
    assert client.get("/staff/reports/abc").status_code == 404


# -- photos ----------------------------------------------------------------------------------

def test_photo_is_served_only_for_its_own_report(client: FlaskClient, services: Services) -> None:
    mine, other = file_report(services), file_report(services, "Other")
    key = attach_photo(services, mine)
    other_key = attach_photo(services, other, color=(10, 120, 10))
    response = client.get(f"/staff/reports/{mine.id}/photos/{key}", headers={"Accept": "image/webp,*/*"})
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.data == (services.settings.report_photo_dir / key).read_bytes()
    assert Image.open(io.BytesIO(response.data)).size == (64, 48)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"

    assert client.get(f"/staff/reports/{mine.id}/photos/{other_key}").status_code == 404
    assert client.get(f"/staff/reports/{other.id}/photos/{key}").status_code == 404
    assert client.get(f"/staff/reports/999/photos/{key}").status_code == 404


@pytest.mark.parametrize("bad", [
    "..%2F..%2F..%2Fetc%2Fpasswd", "../assistant.db", "%2e%2e", "not-a-key.jpg", "a" * 64 + ".gif",
    "0" * 64 + ".jpg", ".incoming-x.tmp",
])
def test_bad_photo_keys_are_a_404(client: FlaskClient, services: Services, bad: str) -> None:
    report = file_report(services)
    attach_photo(services, report)
    response = client.get(f"/staff/reports/{report.id}/photos/{bad}")
    assert response.status_code == 404


def test_a_recorded_photo_missing_from_disk_is_a_404(client: FlaskClient, services: Services) -> None:
    report = file_report(services)
    key = attach_photo(services, report)
    (services.settings.report_photo_dir / key).unlink()
    assert client.get(f"/staff/reports/{report.id}/photos/{key}").status_code == 404


# -- status changes and release (CSRF, audit log) --------------------------------------------

def test_status_change_needs_the_csrf_token(client: FlaskClient, bob: FlaskClient, services: Services) -> None:
    report = file_report(services)
    url = f"/staff/reports/{report.id}/status"
    for data in ({"status": "closed"}, {"status": "closed", "csrf_token": ""},
                 {"status": "closed", "csrf_token": "0" * 64}, {"status": "closed", "csrf_token": "é"}):
        assert client.post(url, data=data).status_code == 403
    # A token from another session (bob's browser) does not work in ana's, nor ana's in bob's.
    anas, bobs = token_on(client, report.id), token_on(bob, report.id)
    assert anas != bobs
    assert client.post(url, data={"status": "closed", "csrf_token": bobs}).status_code == 403
    assert bob.post(url, data={"status": "closed", "csrf_token": anas}).status_code == 403
    assert services.report_store.get(report.id).status == ReportStatus.RECEIVED
    assert audit(services, Action.REPORT_STATUS) == []

    response = client.post(url, headers={"Origin": "http://localhost"},
                           data={"status": "closed", "notes": "  Officer spoke with the neighbour ", "csrf_token": anas})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/staff/reports/{report.id}")
    changed = services.report_store.get(report.id)
    assert changed.status == ReportStatus.CLOSED and changed.status_notes == "Officer spoke with the neighbour"
    assert changed.closed_at is not None


def test_a_session_token_does_not_outlive_its_session(client: FlaskClient, services: Services) -> None:
    """After signing out, neither the old session nor its token works; the next session has its own."""
    report = file_report(services)
    url = f"/staff/reports/{report.id}/status"
    old = token_on(client, report.id)
    assert client.post("/staff/sign-out", data={"csrf_token": old}).status_code == 303
    assert client.post(url, data={"status": "closed", "csrf_token": old}).status_code == 401
    assert goes_to_sign_in(client.get(f"/staff/reports/{report.id}", headers=HTML), f"/staff/reports/{report.id}")
    new = signed_in(client, "ana", PASSWORD)
    assert new != old
    assert client.post(url, data={"status": "closed", "csrf_token": old}).status_code == 403
    assert services.report_store.get(report.id).status == ReportStatus.RECEIVED


def test_a_status_change_is_written_to_the_audit_log(client: FlaskClient, services: Services,
                                                     clock: MutableClock) -> None:
    report = file_report(services, place_text="12 Elm St")
    notes = "Spoke with the caller at 503-555-0142 about the alarm"
    response = client.post(f"/staff/reports/{report.id}/status",
                           data={"status": "open", "notes": notes, "csrf_token": token_on(client, report.id)})
    assert response.status_code == 303
    [entry] = audit(services, Action.REPORT_STATUS)
    assert entry.actor == "ana" and entry.conversation_id == report.conversation_id == conversation_id(services)
    assert entry.at == clock.now()
    assert report.reference in entry.detail and "open" in entry.detail
    for private in (NUMBER, "5035550142", "0142", "Spoke with", "alarm", "12 Elm St"):
        assert private not in entry.detail, private


def test_status_change_rejects_cross_site_posts(client: FlaskClient, services: Services) -> None:
    report = file_report(services)
    token = token_on(client, report.id)
    url = f"/staff/reports/{report.id}/status"
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"},
                    {"Origin": "http://localhost.evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        response = client.post(url, headers=headers, data={"status": "closed", "csrf_token": token})
        assert response.status_code == 403, headers
    assert services.report_store.get(report.id).status == ReportStatus.RECEIVED
    assert audit(services, Action.REPORT_STATUS) == []
    same_site = client.post(url, headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
                            data={"status": "closed", "csrf_token": token})
    assert same_site.status_code == 303


def test_status_change_checks_its_values(client: FlaskClient, services: Services) -> None:
    report = file_report(services)
    token = token_on(client, report.id)
    url = f"/staff/reports/{report.id}/status"
    assert client.post(url, data={"status": "lost", "csrf_token": token}).status_code == 400
    assert client.post(url, data={"csrf_token": token}).status_code == 400
    too_long = {"status": "open", "notes": "x" * (NOTES_MAX + 1), "csrf_token": token}
    assert client.post(url, data=too_long).status_code == 400
    assert services.report_store.get(report.id).status == ReportStatus.RECEIVED
    assert audit(services, Action.REPORT_STATUS) == []
    ok = {"status": "open", "notes": "x" * NOTES_MAX, "csrf_token": token}
    assert client.post(url, data=ok).status_code == 303
    assert client.post("/staff/reports/999/status", data=ok).status_code == 404
    assert len(audit(services, Action.REPORT_STATUS)) == 1


def test_release_from_review_queues_the_report(client: FlaskClient, bob: FlaskClient, services: Services) -> None:
    report = file_report(services, "Someone in a red hat", report_type="suspicious_activity",
                         review_reason="appearance only", forward=True)
    store: ReportStore = services.report_store
    assert store.outbox(report.id) is None
    html = page(bob, f"/staff/reports/{report.id}")
    assert "Held for review" in html and "appearance only" in html

    url = f"/staff/reports/{report.id}/release"
    assert bob.post(url).status_code == 403
    assert bob.post(url, data={"csrf_token": token_on(client, report.id)}).status_code == 403  # ana's token
    assert bob.post(url, headers={"Origin": "https://evil.example"},
                    data={"csrf_token": token_on(bob, report.id)}).status_code == 403
    assert store.outbox(report.id) is None and store.get(report.id).review_reason == "appearance only"
    assert audit(services, Action.REPORT_RELEASE) == []

    response = bob.post(url, data={"csrf_token": token_on(bob, report.id)})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/staff/reports/{report.id}")
    outbox = store.outbox(report.id)
    assert outbox is not None and outbox.state == OutboxState.PENDING
    assert store.get(report.id).review_reason is None
    assert "Held for review" not in page(bob, f"/staff/reports/{report.id}")
    [entry] = audit(services, Action.REPORT_RELEASE)
    assert entry.actor == "bob" and entry.conversation_id == report.conversation_id
    assert report.reference in entry.detail
    for private in (NUMBER, "5035550142", "0142", "red hat", "appearance"):
        assert private not in entry.detail, private
    # A second click (another tab, or ana's) changes nothing, is not an error, and is not logged again.
    again = client.post(url, data={"csrf_token": token_on(client, report.id)})
    assert again.status_code == 303 and store.outbox(report.id).id == outbox.id
    assert len(audit(services, Action.REPORT_RELEASE)) == 1


# -- CSV -------------------------------------------------------------------------------------

def test_csv_export_has_filters_no_formulas_and_no_phone_numbers(client: FlaskClient, services: Services,
                                                                 clock: MutableClock) -> None:
    file_report(services, "=HYPERLINK(\"http://evil.example\",\"click\")", place_text="+1 Main St",
                occurred_at=datetime(2026, 11, 24, 6, 0), occurred_text="@ night", follow_up_consent=True)
    clock.advance(minutes=5)
    file_report(services, "-2+3", anonymous=True, report_type="graffiti")
    response = client.get("/staff/reports.csv?type=noise", headers={"Accept": "text/csv"})
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

    everything = list(csv.DictReader(io.StringIO(client.get("/staff/reports.csv").get_data(as_text=True))))
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

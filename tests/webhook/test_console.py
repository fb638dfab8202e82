"""The staff console through Flask's test client, on the real database and Redis, with Twilio's
API served by a local fake: permissions, sign-in cookies and timeouts, masking and audited
reveal, replies on the resident's channel, resolving, export redaction, search."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Callable

import pytest
from flask.testing import FlaskClient

from bot.services import Services
from bot.storage.models import HandoffReason, HandoffState, OutboundStatus
from tests.conftest import MutableClock
from tests.fakes.twilio_api import FakeTwilio
from tests.webhook.conftest import PUBLIC
from tests.webhook.staff_client import add_account, sign_in, signed_in
from webhook.app import create_app

NOW = datetime(2026, 11, 24, 17, 0)  # Tuesday 09:00 in Port Alder
NUMBER = "+15035550142"
STAFF_PW, BOSS_PW = "staff member password", "supervisor password!"
HTML = {"Accept": "text/html"}


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(NOW)


@pytest.fixture
def services(make_services: Callable[..., Services], clock: MutableClock, fake_twilio: FakeTwilio) -> Services:
    services = make_services(clock, twilio_account_sid=fake_twilio.account_sid, twilio_auth_token=fake_twilio.auth_token,
                             twilio_from_number="+15035550100", twilio_api_base_url=fake_twilio.base_url,
                             public_base_url=PUBLIC, staff_idle_minutes=30, staff_absolute_hours=10)
    add_account(services, "sam", STAFF_PW, "staff")
    add_account(services, "bea", BOSS_PW, "supervisor")
    return services


@pytest.fixture
def app(services: Services):  # type: ignore[no-untyped-def]
    return create_app(services=services)


@pytest.fixture
def staff(app) -> tuple[FlaskClient, str]:  # type: ignore[no-untyped-def]
    client = app.test_client()  # no `with`: two clients' preserved contexts would interleave
    return client, signed_in(client, "sam", STAFF_PW)


@pytest.fixture
def boss(app) -> tuple[FlaskClient, str]:  # type: ignore[no-untyped-def]
    client = app.test_client()
    return client, signed_in(client, "bea", BOSS_PW)


def handed_off(services: Services, text: str = "my neighbor at 503-555-0199 keeps parking on my lawn",
               number: str = NUMBER, channel: str = "sms", reason: str = HandoffReason.REQUESTED) -> int:
    conversation = services.conversations.get_or_create(channel, f"hash-{channel}-{number}", number)
    message, _ = services.messages.record_inbound(conversation.id, channel, text, None)
    services.messages.mark_processed(message.id, intent="request_human", confidence=0.97)
    services.handoffs.start(conversation.id, reason)
    return conversation.id


def html(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


# -- sign-in -------------------------------------------------------------------------------

def test_signed_out_people_see_only_the_sign_in_page(app, services: Services) -> None:  # type: ignore[no-untyped-def]
    cid = handed_off(services)
    client = app.test_client()
    for path in ("/staff/", f"/staff/conversations/{cid}", "/staff/conversations", "/staff/reports", "/staff/meetings",
                 "/staff/audit"):
        response = client.get(path, headers=HTML)
        assert response.status_code == 303 and response.headers["Location"].startswith("/staff/sign-in?next="), path
    assert client.get("/staff/queue/state", headers={"Accept": "application/json"}).status_code == 401
    for action in ("reply", "claim", "resolve", "reveal", "note", "export"):
        assert client.post(f"/staff/conversations/{cid}/{action}", data={"text": "hi"}).status_code == 401
    assert services.audit.entries() == []


def test_the_session_cookie_is_secure_httponly_strict_and_new_at_each_sign_in(app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    first = sign_in(client, "sam", STAFF_PW)
    cookie = next(c for c in first.headers.getlist("Set-Cookie") if c.startswith("__Host-staff="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie
    second = sign_in(app.test_client(), "sam", STAFF_PW)
    assert next(c for c in second.headers.getlist("Set-Cookie") if c.startswith("__Host-staff=")) != cookie


def test_wrong_passwords_fail_alike_are_audited_and_lock_the_account(app, services: Services) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    unknown = sign_in(client, "nobody", "whatever it is")
    wrong = sign_in(client, "sam", "not the password")
    assert unknown.status_code == wrong.status_code == 401
    assert html(unknown).count("Wrong username or password") == 1 and "Wrong username or password" in html(wrong)
    for _ in range(4):
        sign_in(client, "sam", "not the password")
    assert sign_in(client, "sam", STAFF_PW).status_code == 401  # locked now
    actions = [(e.actor, e.action) for e in reversed(services.audit.entries())]
    assert actions[:2] == [("(unknown name)", "sign_in_failed"), ("sam", "sign_in_failed")]
    assert actions[-1] == ("sam", "locked_out")
    assert all("not the password" not in (e.detail or "") + e.actor for e in services.audit.entries())


def test_sign_in_needs_its_form_token(app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    response = client.post("/staff/sign-in", data={"username": "sam", "password": STAFF_PW, "csrf_token": "x" * 43})
    assert response.status_code == 403
    assert client.get("/staff/", headers=HTML).status_code == 303


def test_next_only_leads_inside_the_console(app) -> None:  # type: ignore[no-untyped-def]
    from tests.webhook.staff_client import form_token

    for target, expected in (("//evil.example/x", "/staff/"), ("https://evil.example", "/staff/"),
                             ("/staff/reports", "/staff/reports")):
        client = app.test_client()
        page = client.get("/staff/sign-in")
        response = client.post("/staff/sign-in", data={"username": "sam", "password": STAFF_PW, "next": target,
                                                       "csrf_token": form_token(html(page))})
        assert response.headers["Location"] == expected


def test_idle_sessions_end(staff, clock: MutableClock) -> None:  # type: ignore[no-untyped-def]
    client, _ = staff
    clock.advance(minutes=29)
    assert client.get("/staff/", headers=HTML).status_code == 200
    clock.advance(minutes=31)
    assert client.get("/staff/", headers=HTML).status_code == 303


def test_the_queue_pages_own_polling_does_not_keep_a_session_alive(staff, clock: MutableClock) -> None:  # type: ignore[no-untyped-def]
    client, _ = staff
    polled = {"Accept": "application/json"}  # as static/staff.js asks
    for _ in range(8):  # 32 minutes of an open queue tab polling, nobody at the desk
        assert client.get("/staff/queue/state", headers=polled).status_code == 200
        clock.advance(minutes=4)
    assert client.get("/staff/queue/state", headers=polled).status_code == 401  # the page reloads to the sign-in
    assert client.get("/staff/", headers=HTML).status_code == 303


def test_sign_out_ends_the_session(staff, services: Services) -> None:  # type: ignore[no-untyped-def]
    client, csrf = staff
    assert client.post("/staff/sign-out", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/staff/", headers=HTML).status_code == 303
    assert services.audit.entries()[0].action == "sign_out"


# -- CSRF and origins ----------------------------------------------------------------------

def test_posts_need_this_session_token_and_this_site(staff, boss, services: Services) -> None:  # type: ignore[no-untyped-def]
    client, csrf = staff
    _, other_session_token = boss
    cid = handed_off(services)
    url = f"/staff/conversations/{cid}/note"
    for data in ({"text": "x"}, {"text": "x", "csrf_token": ""}, {"text": "x", "csrf_token": other_session_token},
                 {"text": "x", "csrf_token": "é"}):
        assert client.post(url, data=data).status_code == 403
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}):
        assert client.post(url, data={"text": "x", "csrf_token": csrf}, headers=headers).status_code == 403
    assert services.notes.for_conversation(cid) == []
    ok = client.post(url, data={"text": "Called the resident", "csrf_token": csrf}, headers={"Origin": PUBLIC})
    assert ok.status_code == 303 and services.notes.for_conversation(cid)[0].text == "Called the resident"


# -- the queue -----------------------------------------------------------------------------

def test_the_queue_puts_safety_first_then_the_longest_waiting(staff, services: Services, clock: MutableClock) -> None:  # type: ignore[no-untyped-def]
    client, _ = staff
    first = handed_off(services, "can someone call me", number="+15035550001")
    clock.advance(minutes=5)
    review = handed_off(services, "a report", number="+15035550002", reason=HandoffReason.REPORT_REVIEW)
    clock.advance(minutes=5)
    urgent = handed_off(services, "help", number="+15035550003", reason=HandoffReason.EMERGENCY)
    clock.advance(minutes=2)
    page = html(client.get("/staff/", headers=HTML))
    order = [page.index(f"/staff/conversations/{cid}\"") for cid in (urgent, review, first)]
    assert order == sorted(order)
    assert "12 min" in page and "emergency flagged" in page and "***-***-0001" in page and "+15035550001" not in page
    state = client.get("/staff/queue/state").get_json()
    assert state["waiting"] == 3 and state["urgent_waiting"] == 1
    handed_off(services, "another", number="+15035550004")
    assert client.get("/staff/queue/state").get_json()["version"] > state["version"]


def test_claim_once_and_supervisors_assign(staff, boss, services: Services) -> None:  # type: ignore[no-untyped-def]
    (sam, sam_csrf), (bea, bea_csrf) = staff, boss
    cid = handed_off(services)
    assert sam.post(f"/staff/conversations/{cid}/claim", data={"csrf_token": sam_csrf}).headers["Location"].endswith("done=claimed")
    assert bea.post(f"/staff/conversations/{cid}/claim", data={"csrf_token": bea_csrf}).headers["Location"].endswith("done=taken")
    sam_id = services.staff_accounts.by_username("sam").id  # type: ignore[union-attr]
    bea_id = services.staff_accounts.by_username("bea").id  # type: ignore[union-attr]
    assert sam.post(f"/staff/conversations/{cid}/assign", data={"csrf_token": sam_csrf, "staff_id": str(sam_id)}).status_code == 403
    assert bea.post(f"/staff/conversations/{cid}/assign", data={"csrf_token": bea_csrf, "staff_id": "999"}).status_code == 400
    assert bea.post(f"/staff/conversations/{cid}/assign", data={"csrf_token": bea_csrf, "staff_id": str(bea_id)}).status_code == 303
    assert services.handoff_store.open_for(cid).assigned_to == bea_id  # type: ignore[union-attr]
    assert "Handled by" in html(sam.get("/staff/", headers=HTML)) and "bea" in html(sam.get("/staff/", headers=HTML))
    assert [e.action for e in services.audit.entries(limit=10) if e.conversation_id == cid][:2] == ["assign", "claim"]


# -- a conversation ------------------------------------------------------------------------

def test_numbers_are_masked_until_revealed_and_every_look_is_audited(staff, services: Services) -> None:  # type: ignore[no-untyped-def]
    client, csrf = staff
    cid = handed_off(services)
    page = html(client.get(f"/staff/conversations/{cid}", headers=HTML))
    assert "***-***-0142" in page and NUMBER not in page
    assert "***-***-0199" in page and "503-555-0199" not in page
    assert "request_human" in page and "0.97" in page  # what the assistant understood
    revealed = html(client.post(f"/staff/conversations/{cid}/reveal", data={"csrf_token": csrf}))
    assert NUMBER in revealed and "503-555-0199" in revealed
    assert [(e.actor, e.action, e.conversation_id) for e in services.audit.entries(limit=2)] == [
        ("sam", "reveal", cid), ("sam", "view", cid)]
    assert all(NUMBER not in (e.detail or "") for e in services.audit.entries())
    again = html(client.get(f"/staff/conversations/{cid}", headers=HTML))
    assert NUMBER not in again  # a reveal lasts one page view


def test_a_reply_goes_out_by_sms_claims_the_handoff_and_is_recorded(
        staff, services: Services, fake_twilio: FakeTwilio) -> None:  # type: ignore[no-untyped-def]
    client, csrf = staff
    cid = handed_off(services)
    response = client.post(f"/staff/conversations/{cid}/reply", data={"csrf_token": csrf, "text": "Officer Diaz here \u2014 I\u2019ll call you"})
    assert response.headers["Location"].endswith("done=sent")
    assert [(m.to, m.body) for m in fake_twilio.sent] == [(NUMBER, "Officer Diaz here - I'll call you")]  # GSM-7 only
    handoff = services.handoff_store.open_for(cid)
    assert handoff is not None and handoff.state == HandoffState.CLAIMED
    out = [m for m in services.messages.transcript(cid) if m.direction == "out"]
    assert out[-1].author == "staff" and out[-1].status == OutboundStatus.SENT
    page = html(client.get(f"/staff/conversations/{cid}", headers=HTML))
    assert "Staff (sam)" in page


def test_canned_replies_are_sent_in_the_residents_language(staff, services: Services, fake_twilio: FakeTwilio) -> None:  # type: ignore[no-untyped-def]
    client, csrf = staff
    cid = handed_off(services, "necesito hablar con una persona")
    services.conversations.set_language(cid, "es")
    client.post(f"/staff/conversations/{cid}/reply", data={"csrf_token": csrf, "text": "", "canned": "2"})
    assert fake_twilio.sent[-1].body.startswith("Es mejor atender esto por tel")
    assert services.profile.non_emergency_phone in fake_twilio.sent[-1].body


def test_replies_to_an_opted_out_number_are_kept_not_sent(staff, services: Services, fake_twilio: FakeTwilio) -> None:  # type: ignore[no-untyped-def]
    client, csrf = staff
    cid = handed_off(services)
    services.consent.set_opted_out(services.conversations.get(cid).address_hash, True, "STOP")
    response = client.post(f"/staff/conversations/{cid}/reply", data={"csrf_token": csrf, "text": "Are you safe?"})
    assert response.headers["Location"].endswith("done=blocked")
    assert fake_twilio.sent == []
    assert "opted out" in html(client.get(response.headers["Location"], headers=HTML))


def test_a_web_chat_reply_lands_in_the_widget_outbox(staff, services: Services, fake_twilio: FakeTwilio) -> None:  # type: ignore[no-untyped-def]
    client, csrf = staff
    cid = handed_off(services, "hello from the website", number="session-hash", channel="web")
    client.post(f"/staff/conversations/{cid}/reply", data={"csrf_token": csrf, "text": "Hi, this is Sam."})
    out = services.messages.after(cid, 0)
    assert [(m.author, m.text, m.status) for m in out if m.direction == "out"] == [("staff", "Hi, this is Sam.", OutboundStatus.DELIVERED)]
    assert fake_twilio.sent == []


def test_no_reply_without_a_handoff_and_notes_never_reach_the_resident(
        staff, services: Services, fake_twilio: FakeTwilio) -> None:  # type: ignore[no-untyped-def]
    client, csrf = staff
    cid = handed_off(services)
    handoff = services.handoff_store.open_for(cid)
    services.handoffs.resolve(handoff.id, "someone")  # type: ignore[union-attr]
    assert client.post(f"/staff/conversations/{cid}/reply", data={"csrf_token": csrf, "text": "hi"}).headers[
        "Location"].endswith("done=closed")
    client.post(f"/staff/conversations/{cid}/note", data={"csrf_token": csrf, "text": "Private: called 503-555-0100"})
    assert fake_twilio.sent == []
    assert "Private note (sam)" in html(client.get(f"/staff/conversations/{cid}", headers=HTML))
    assert client.post(f"/staff/conversations/{cid}/reply", data={"csrf_token": csrf, "text": "x" * 1001}).status_code in (303, 400)


def test_take_over_then_resolve_tells_the_resident_and_hands_back(
        staff, services: Services, fake_twilio: FakeTwilio) -> None:  # type: ignore[no-untyped-def]
    client, csrf = staff
    cid = handed_off(services)
    handoff = services.handoff_store.open_for(cid)
    services.handoffs.resolve(handoff.id, "resident")  # type: ignore[union-attr]
    client.post(f"/staff/conversations/{cid}/take-over", data={"csrf_token": csrf})
    taken = services.handoff_store.open_for(cid)
    assert taken is not None and taken.reason == HandoffReason.STAFF and taken.state == HandoffState.CLAIMED
    assert client.post(f"/staff/conversations/{cid}/resolve", data={"csrf_token": csrf}).headers["Location"].endswith("done=resolved")
    assert services.handoff_store.open_for(cid) is None
    assert fake_twilio.sent[-1].to == NUMBER and "assistant" in fake_twilio.sent[-1].body.lower()
    client.post(f"/staff/conversations/{cid}/resolve", data={"csrf_token": csrf})  # twice: nothing more sent
    assert len(fake_twilio.sent) == 1
    assert services.audit.entries(limit=1)[0].action == "resolve"


def test_unknown_conversations_are_404(staff) -> None:  # type: ignore[no-untyped-def]
    client, csrf = staff
    assert client.get("/staff/conversations/9999", headers=HTML).status_code == 404
    assert client.post("/staff/conversations/9999/note", data={"csrf_token": csrf, "text": "x"}).status_code == 404


# -- export --------------------------------------------------------------------------------

def test_exports_are_for_supervisors_redacted_by_default_and_audited(staff, boss, services: Services) -> None:  # type: ignore[no-untyped-def]
    (sam, sam_csrf), (bea, bea_csrf) = staff, boss
    cid = handed_off(services)
    assert sam.post(f"/staff/conversations/{cid}/export", data={"csrf_token": sam_csrf, "format": "json"}).status_code == 403
    assert "Export" not in html(sam.get(f"/staff/conversations/{cid}", headers=HTML)).split("Private note")[-1]
    data = json.loads(bea.post(f"/staff/conversations/{cid}/export", data={"csrf_token": bea_csrf, "format": "json"}).data)
    assert data["contact"] == "[phone]" and "[phone] keeps parking" in data["entries"][0]["text"]
    csv_text = html(bea.post(f"/staff/conversations/{cid}/export", data={"csrf_token": bea_csrf, "format": "csv"}))
    assert "503-555-0199" not in csv_text and "[phone]" in csv_text
    full = html(bea.post(f"/staff/conversations/{cid}/export",
                         data={"csrf_token": bea_csrf, "format": "print", "personal_data": "include"}))
    assert NUMBER in full and "503-555-0199" in full and "Personal data: included" in full
    exports = [e.detail for e in services.audit.entries() if e.action == "export"]
    assert exports == ["format=print personal_data=included", "format=csv personal_data=redacted",
                       "format=json personal_data=redacted"]
    assert bea.post(f"/staff/conversations/{cid}/export", data={"csrf_token": bea_csrf, "format": "xml"}).status_code == 400


def test_the_audit_log_is_for_supervisors(staff, boss) -> None:  # type: ignore[no-untyped-def]
    (sam, _), (bea, _) = staff, boss
    assert sam.get("/staff/audit", headers=HTML).status_code == 403
    page = html(bea.get("/staff/audit?actor=sam", headers=HTML))
    assert "sign_in" in page and "<td>bea</td>" not in page
    assert bea.get("/staff/audit?conversation=abc", headers=HTML).status_code == 400


# -- search --------------------------------------------------------------------------------

def test_search_by_text_channel_flag_and_handoff(staff, services: Services, clock: MutableClock) -> None:  # type: ignore[no-untyped-def]
    client, _ = staff
    lawn = handed_off(services)
    web = services.conversations.get_or_create("web", "hash-web", "web-session")
    services.messages.record_inbound(web.id, "web", "100% sure the graffiti is back", None)
    services.conversations.flag(web.id, "crisis")

    def ids(query: str) -> set[int]:
        page = html(client.get(f"/staff/conversations?{query}", headers=HTML))
        return {cid for cid in (lawn, web.id) if f"/staff/conversations/{cid}\"" in page}

    assert ids("") == {lawn, web.id}
    assert ids("q=LAWN") == {lawn}
    assert ids("q=100%25") == {web.id} and ids("q=_") == set()  # % and _ are literal
    assert ids("channel=web") == {web.id}
    assert ids("flagged=yes") == {web.id} and ids("flagged=no") == {lawn}
    assert ids("handed_off=yes") == {lawn} and ids("open=yes") == {lawn}
    assert ids("safety=yes") == set()
    # a possible-danger event (the normal answer plus the 911 line) is found without a flag
    [inbound] = [m for m in services.messages.transcript(lawn) if m.direction == "in"][:1]
    services.messages.mark_processed(inbound.id, safety="possible_emergency")
    assert ids("safety=yes") == {lawn} and ids("safety=no") == {web.id} and ids("flagged=yes") == {web.id}
    page = html(client.get(f"/staff/conversations/{lawn}", headers=HTML))
    assert "safety event: possible emergency" in page
    assert ids("from=2026-11-25") == set() and ids("from=2026-11-24&to=2026-11-24") == {lawn, web.id}
    for bad in ("channel=fax", "from=yesterday", "flagged=maybe", "safety=maybe", "page=0", "q=" + "x" * 201):
        assert client.get(f"/staff/conversations?{bad}", headers=HTML).status_code == 400, bad
    assert "***-***-0142" in html(client.get("/staff/conversations", headers=HTML))


def test_releasing_a_held_report_takes_its_review_off_the_queue(staff, services: Services) -> None:  # type: ignore[no-untyped-def]
    client, csrf = staff
    conversation = services.conversations.get_or_create("sms", "hash-review", NUMBER)
    report = services.report_store.create(conversation.id, "suspicious_activity", "tall man in a hoodie",
                                          review_reason="appearance only")
    services.handoffs.start(conversation.id, HandoffReason.REPORT_REVIEW, report.id)
    queue = html(client.get("/staff/", headers=HTML))
    assert "report held for review" in queue
    assert "the report" in html(client.get(f"/staff/conversations/{conversation.id}", headers=HTML))
    client.post(f"/staff/reports/{report.id}/release", data={"csrf_token": csrf})
    assert services.handoff_store.open_for(conversation.id) is None
    assert "report held for review" not in html(client.get("/staff/", headers=HTML))

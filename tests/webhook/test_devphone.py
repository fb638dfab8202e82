"""The development phone: same signed webhook path as Twilio, JSON API, disabled with real Twilio."""
from __future__ import annotations

import base64
import re
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from bot.identity import address_hash
from bot.services import Services
from bot.staff.audit import Action, AuditQuery
from bot.storage.models import InboundMedia
from bot.sweeper import sweep
from tests.conftest import MutableClock, RasaStack, run_worker
from tests.fakes.media import gps_jpeg
from tests.phone import new_number
from webhook.app import create_app

STAFF_PASSWORD = "a long staff password for the scenario"


def test_page_renders_and_api_posts_through_the_signed_webhook(make_services: Callable[..., Services]) -> None:
    services = make_services()
    client = create_app(services=services).test_client()
    page = client.get("/dev/phone")
    assert page.status_code == 200 and b"Development phone" in page.data and services.profile.name.encode() in page.data
    sent = client.post("/dev/phone/api/messages", json={"from": "+1 503 555 0177", "body": "hi there"})
    assert sent.status_code == 202 and sent.json["sid"].startswith("SM")
    listed = client.get("/dev/phone/api/messages?number=%2B15035550177").json["messages"]
    assert [(m["direction"], m["text"], m["status"]) for m in listed] == [("in", "hi there", "received")]
    assert services.queue.count == 1


def test_the_webhook_still_rejects_unsigned_posts_in_development(make_services: Callable[..., Services]) -> None:
    client = create_app(services=make_services()).test_client()
    assert client.post("/sms/inbound", data={"From": "+15035550177", "MessageSid": "SM1", "Body": "x"}).status_code == 403


def test_bad_api_input_is_400(make_services: Callable[..., Services]) -> None:
    client = create_app(services=make_services()).test_client()
    assert client.post("/dev/phone/api/messages", json={"from": "not a number", "body": "x"}).status_code == 400
    assert client.post("/dev/phone/api/messages", data="junk").status_code == 400
    assert client.get("/dev/phone/api/messages?number=abc").status_code == 400


def test_disabled_when_real_twilio_is_configured(make_services: Callable[..., Services]) -> None:
    services = make_services(twilio_account_sid="AC" + "1" * 32, twilio_auth_token="t",
                             twilio_from_number="+15035550100")
    client = create_app(services=services).test_client()
    assert client.get("/dev/phone").status_code == 404
    assert client.post("/dev/phone/api/messages", json={"from": "+15035550177", "body": "x"}).status_code == 404


def test_done_when_scenario_on_the_development_phone(make_services: Callable[..., Services],
                                                     rasa_stack: RasaStack) -> None:
    """Issue #2's acceptance: greeting, FAQ answer, Spanish answer, 911 answer."""
    services = make_services(rasa_url=rasa_stack.url, database_url=rasa_stack.database_url)
    client = create_app(services=services).test_client()
    number = new_number()  # Rasa's trackers outlive one test: a fresh resident each run
    replies = []
    for text in ["hi", "how do i join neighborhood watch", "quiero ir a una reunion",
                 "someone is breaking into my neighbor's house right now"]:
        before = len(client.get(f"/dev/phone/api/messages?number={number}").json["messages"])
        assert client.post("/dev/phone/api/messages", json={"from": number, "body": text}).status_code == 202
        run_worker(services)
        messages = client.get(f"/dev/phone/api/messages?number={number}").json["messages"][before:]
        replies.append([m["text"] for m in messages if m["direction"] == "out"])
    greeting, faq, spanish, emergency = ("\n".join(texts) for texts in replies)
    assert services.profile.short_name in greeting or services.profile.name in greeting
    assert services.profile.links["neighborhood_watch"] in faq
    assert any(word in spanish.lower() for word in ("reunion", "reuniones", "inscrib", "puede"))
    # The 911 answer first; then the resident hears that a person will read the conversation.
    assert "911" in replies[-1][0] and "staff member will also read this conversation" in replies[-1][-1]
    assert "911" in emergency


def test_a_photo_from_the_page_is_sent_as_an_mms_whose_media_url_serves_it(
        make_services: Callable[..., Services], tmp_path: Path) -> None:
    services = make_services(report_photo_dir=tmp_path / "photos")
    client = create_app(services=services).test_client()
    picture = gps_jpeg()
    photo = "data:image/jpeg;base64," + base64.b64encode(picture).decode()
    sent = client.post("/dev/phone/api/messages", json={"from": "+15035550178", "body": "", "photo": photo})
    assert sent.status_code == 202
    with services.db.session() as session:
        [row] = session.execute(select(InboundMedia)).scalars().all()
    assert row.declared_type == "image/jpeg" and row.url.startswith("http://localhost/dev/phone/media/")
    served = client.get(row.url.removeprefix("http://localhost"))
    assert served.status_code == 200 and served.data == picture and served.mimetype == "image/jpeg"
    listed = client.get("/dev/phone/api/messages?number=%2B15035550178").json["messages"]
    assert listed[0]["media"] == 1
    assert client.get("/dev/phone/media/" + "0" * 32).status_code == 404
    assert client.get("/dev/phone/media/..%2F..%2Fetc%2Fpasswd").status_code == 404
    bad = client.post("/dev/phone/api/messages", json={"from": "+15035550178", "body": "", "photo": "not a data url"})
    assert bad.status_code == 400


def test_report_scenario_on_the_development_phone(make_services: Callable[..., Services], rasa_stack: RasaStack,
                                                  tmp_path: Path) -> None:
    """Issue #5's acceptance, through the development phone served over HTTP (the worker fetches
    the picture from it as it would from Twilio): graffiti with a photo, an abandoned car at an
    intersection, suspicious activity anonymously, a reference each time, the status, and a
    text when staff close the report on the staff page."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)  # the action server files with the real clock
    services = make_services(MutableClock(now), rasa_url=rasa_stack.url, database_url=rasa_stack.database_url,
                             report_photo_dir=tmp_path / "photos", quiet_hours=("00:00", "00:00"),
                             rate_limit_count=100)  # three reports in a minute: faster than any resident
    # The stack's database outlives one test (as Rasa's trackers do): a fresh staff name each run.
    staff_name = f"sam-{uuid.uuid4().hex[:8]}"
    services.staff_accounts.create(staff_name, STAFF_PASSWORD, "staff")
    app = create_app(services=services)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    number = new_number()
    picture = "data:image/jpeg;base64," + base64.b64encode(gps_jpeg()).decode()

    def text(body: str, photo: str | None = None) -> str:
        before = len(requests.get(f"{base}/dev/phone/api/messages", params={"number": number}).json()["messages"])
        message = {"from": number, "body": body, **({"photo": photo} if photo else {})}
        assert requests.post(f"{base}/dev/phone/api/messages", json=message).status_code == 202
        run_worker(services)
        messages = requests.get(f"{base}/dev/phone/api/messages", params={"number": number}).json()["messages"]
        return "\n".join(m["text"] for m in messages[before:] if m["direction"] == "out")

    try:
        references = []
        for script in (
            [("graffiti on the wall behind 5th and main", None), ("last night", None),
             ("red tags all over the wall", None), ("", picture), ("2", None), ("yes", None), ("1", None)],
            [("abandoned car at main & 5th", None), ("not sure", None),
             ("grey sedan, flat tires, two weeks now", None), ("1", None), ("no", None), ("no", None),
             ("yes", None)],
            [("i want to report suspicious activity", None), ("outside 415 elm st", None), ("today around 2pm", None),
             ("a man was pulling on car door handles down the block", None), ("no photo", None),
             ("1", None), ("yes", None)],
        ):
            replies = [text(body, photo) for body, photo in script]
            assert replies[-1].startswith("Thanks! Your report number is R-"), replies
            references.append(re.search(r"R-\d+", replies[-1]).group(0))  # type: ignore[union-attr]
        assert len(set(references)) == 3
        graffiti, car, suspicious = (services.report_store.get_by_reference(r, _conversation(services, number).id)
                                     for r in references)
        assert graffiti and len(services.report_store.photos(graffiti.id)) == 1
        assert car and car.report_type == "abandoned_vehicle" and car.place_text and "&" in car.place_text
        assert suspicious and suspicious.anonymous and suspicious.report_type == "suspicious_activity"

        assert text(f"status {references[0]}").startswith(f"{references[0]} Graffiti")

        staff = requests.Session()  # a browser: the sign-in form, then the session cookie
        staff.headers["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        report_url = f"{base}/staff/reports/{graffiti.id}"
        assert staff.get(report_url, allow_redirects=False).status_code == 303  # to the sign-in page
        form = staff.get(f"{base}/staff/sign-in", params={"next": f"/staff/reports/{graffiti.id}"})
        assert form.status_code == 200
        signed = staff.post(f"{base}/staff/sign-in", allow_redirects=False, headers={"Origin": base}, data={
            "username": staff_name, "password": STAFF_PASSWORD, "next": f"/staff/reports/{graffiti.id}",
            "csrf_token": _csrf_token(form.text)})
        assert signed.status_code == 303 and signed.headers["Location"].endswith(f"/staff/reports/{graffiti.id}")
        page = staff.get(report_url)
        assert page.status_code == 200 and references[0] in page.text
        closed = staff.post(f"{report_url}/status", allow_redirects=False, headers={"Origin": base},
                            data={"status": "closed", "notes": "Painted over.", "csrf_token": _csrf_token(page.text)})
        assert closed.status_code == 303
        [entry] = services.audit.entries(AuditQuery(actor=staff_name, action=Action.REPORT_STATUS))
        assert entry.conversation_id == graffiti.conversation_id and references[0] in entry.detail
        sweep(services)
        messages = requests.get(f"{base}/dev/phone/api/messages", params={"number": number}).json()["messages"]
        assert messages[-1]["text"] == f"Update on your report {references[0]} (Graffiti): it's closed. Painted over."
    finally:
        server.shutdown()


def _conversation(services: Services, number: str):  # type: ignore[no-untyped-def]
    return services.conversations.find("sms", address_hash("test-key", "sms", number))


def _csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page carries a CSRF token"
    return match.group(1)

"""The development phone: same signed webhook path as Twilio, JSON API, disabled with real Twilio."""
from __future__ import annotations

import base64
from pathlib import Path
from typing import Callable

from sqlalchemy import select

from bot.services import Services
from bot.storage.models import InboundMedia
from tests.conftest import RasaStack, run_worker
from tests.fakes.media import gps_jpeg
from tests.phone import new_number
from webhook.app import create_app


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
        assert client.post("/dev/phone/api/messages", json={"from": number, "body": text}).status_code == 202
        run_worker(services)
        messages = client.get(f"/dev/phone/api/messages?number={number}").json["messages"]
        replies.append([m["text"] for m in messages if m["direction"] == "out"][-1])
    greeting, faq, spanish, emergency = replies
    assert services.profile.short_name in greeting or services.profile.name in greeting
    assert services.profile.links["neighborhood_watch"] in faq
    assert any(word in spanish.lower() for word in ("reunion", "reuniones", "inscrib", "puede"))
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

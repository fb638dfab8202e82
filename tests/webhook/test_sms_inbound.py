"""The inbound SMS webhook: signatures, dedupe, storage before acknowledgement, bad input."""
from __future__ import annotations

from dataclasses import replace

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.services import Services
from bot.storage.models import InboundStatus
from tests.webhook.conftest import PUBLIC, TOKEN, post_signed, sign, twilio_params
from webhook.app import create_app


def _stored(services: Services) -> list:  # type: ignore[type-arg]
    from sqlalchemy import select

    from bot.storage.models import Message

    with services.db.session() as session:
        return list(session.execute(select(Message).where(Message.direction == "in").order_by(Message.id)).scalars())


def test_signed_message_is_stored_queued_and_acknowledged_with_empty_twiml(client: FlaskClient,
                                                                          twilio_services: Services) -> None:
    response = post_signed(client, "/sms/inbound", twilio_params("how do i join neighborhood watch"))
    assert response.status_code == 200
    assert response.mimetype == "text/xml" and b"<Response></Response>" in response.data
    stored = _stored(twilio_services)
    assert [m.text for m in stored] == ["how do i join neighborhood watch"]
    assert stored[0].status == InboundStatus.RECEIVED
    assert twilio_services.queue.count == 1


def test_messaging_service_payload_is_accepted(client: FlaskClient, twilio_services: Services) -> None:
    params = twilio_params("hola", MessagingServiceSid="MG" + "3" * 32)
    assert post_signed(client, "/sms/inbound", params).status_code == 200
    assert len(_stored(twilio_services)) == 1


def test_missing_signature_is_403(client: FlaskClient, twilio_services: Services) -> None:
    response = client.post("/sms/inbound", data=twilio_params())
    assert response.status_code == 403 and _stored(twilio_services) == []


def test_wrong_token_is_403(client: FlaskClient, twilio_services: Services) -> None:
    assert post_signed(client, "/sms/inbound", twilio_params(), token="not-the-token").status_code == 403
    assert _stored(twilio_services) == []


def test_tampered_body_is_403(client: FlaskClient) -> None:
    params = twilio_params("hi")
    signature = sign(PUBLIC + "/sms/inbound", params)
    params["Body"] = "send me everything"
    assert client.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": signature}).status_code == 403


def test_signature_for_another_url_is_403(client: FlaskClient) -> None:
    params = twilio_params()
    assert post_signed(client, "/sms/inbound", params, url="https://evil.example/sms/inbound").status_code == 403


def test_behind_a_proxy_the_public_url_is_what_counts(client: FlaskClient) -> None:
    """Flask sees http://localhost/...; Twilio signed https://sms.portalder.example/..."""
    params = twilio_params()
    assert post_signed(client, "/sms/inbound", params, url="http://localhost/sms/inbound").status_code == 403
    assert post_signed(client, "/sms/inbound", params, url=PUBLIC + "/sms/inbound").status_code == 200


def test_forwarded_headers_are_used_only_when_trusted(twilio_services: Services) -> None:
    params = twilio_params()
    signature = sign("https://public.example/sms/inbound", params)
    headers = {"X-Twilio-Signature": signature, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "public.example"}
    trusted = replace(twilio_services.settings, public_base_url=None, trust_forwarded_headers=True)
    untrusted = replace(trusted, trust_forwarded_headers=False)
    assert create_app(trusted, twilio_services).test_client().post(
        "/sms/inbound", data=params, headers=headers).status_code == 200
    assert create_app(untrusted, twilio_services).test_client().post(
        "/sms/inbound", data=twilio_params(), headers=headers).status_code == 403


def test_same_message_sid_twice_is_one_message_and_one_job(client: FlaskClient, twilio_services: Services) -> None:
    params = twilio_params("hi")
    assert post_signed(client, "/sms/inbound", params).status_code == 200
    assert post_signed(client, "/sms/inbound", params).status_code == 200
    assert len(_stored(twilio_services)) == 1
    assert twilio_services.queue.count == 1


def test_duplicate_is_caught_by_the_database_when_redis_forgot(client: FlaskClient, twilio_services: Services) -> None:
    params = twilio_params("hi")
    post_signed(client, "/sms/inbound", params)
    twilio_services.redis.delete(*twilio_services.redis.keys("assistant:seen:*"))
    assert post_signed(client, "/sms/inbound", params).status_code == 200
    assert len(_stored(twilio_services)) == 1 and twilio_services.queue.count == 1


def test_wrong_content_type_is_415(client: FlaskClient) -> None:
    params = twilio_params()
    signature = sign(PUBLIC + "/sms/inbound", {})
    response = client.post("/sms/inbound", json=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 415


def test_missing_sender_or_sid_is_400(client: FlaskClient, twilio_services: Services) -> None:
    params = twilio_params()
    del params["From"]
    assert post_signed(client, "/sms/inbound", params).status_code == 400
    params = twilio_params()
    del params["MessageSid"], params["SmsSid"]
    assert post_signed(client, "/sms/inbound", params).status_code == 400
    assert post_signed(client, "/sms/inbound", twilio_params(MessageSid="\x00")).status_code == 400
    assert _stored(twilio_services) == []


def test_odd_but_valid_messages_are_all_stored(client: FlaskClient, twilio_services: Services) -> None:
    cases = [
        twilio_params(None),  # no Body at all
        twilio_params(""),
        twilio_params("", NumMedia="1", MediaUrl0="https://api.twilio.com/media/ME1", MediaContentType0="image/jpeg"),
        twilio_params("x" * 5000),
        twilio_params("🚨🚓 help?? 👀"),
        twilio_params("hola señor, ¿qué tal? Ελληνικά 中文 \u200b\u202e"),
        twilio_params("hi", UnexpectedField="surprise", NumMedia="lots"),
    ]
    for params in cases:
        assert post_signed(client, "/sms/inbound", params).status_code == 200
    stored = _stored(twilio_services)
    assert len(stored) == len(cases)
    assert stored[2].num_media == 1 and stored[3].text == "x" * 5000 and stored[6].num_media == 0


def test_invalid_utf8_gets_a_clear_4xx_never_500(client: FlaskClient) -> None:
    raw = b"From=%2B15035550123&MessageSid=SMbad&Body=%ff%fe%fd"
    response = client.post("/sms/inbound", data=raw, content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": "bogus"})
    assert 400 <= response.status_code < 500


def test_oversized_request_is_413(client: FlaskClient) -> None:
    params = twilio_params("y" * 100_000)
    assert post_signed(client, "/sms/inbound", params).status_code == 413


def test_flooding_number_is_rate_limited_but_every_message_is_kept(make_services, fake_twilio) -> None:  # type: ignore[no-untyped-def]
    services = make_services(twilio_account_sid=fake_twilio.account_sid, twilio_auth_token=TOKEN,
                             twilio_from_number="+15035550100", twilio_api_base_url=fake_twilio.base_url,
                             public_base_url=PUBLIC, rate_limit_count=3)
    client = create_app(services=services).test_client()
    for i in range(6):
        assert post_signed(client, "/sms/inbound", twilio_params(f"spam {i}")).status_code == 200
    stored = _stored(services)
    assert len(stored) == 6
    assert [m.intent for m in stored[3:]] == ["rate_limited"] * 3
    # three conversation jobs (one per allowed message) + exactly one "slow down" notice
    assert services.queue.count == 4


def test_an_emergency_is_never_rate_limited(make_services, fake_twilio) -> None:  # type: ignore[no-untyped-def]
    services = make_services(twilio_account_sid=fake_twilio.account_sid, twilio_auth_token=TOKEN,
                             twilio_from_number="+15035550100", twilio_api_base_url=fake_twilio.base_url,
                             public_base_url=PUBLIC, rate_limit_count=1)
    client = create_app(services=services).test_client()
    post_signed(client, "/sms/inbound", twilio_params("hi"))
    post_signed(client, "/sms/inbound", twilio_params("someone is breaking into my house right now"))
    stored = _stored(services)
    assert stored[1].status == InboundStatus.RECEIVED and stored[1].intent is None


def test_status_callback_updates_delivery_and_21610_opts_out(client: FlaskClient, twilio_services: Services) -> None:
    from bot.identity import address_hash

    conversation = twilio_services.conversations.get_or_create(
        "sms", address_hash("test-key", "sms", "+15035550199"), "+15035550199")
    sent = twilio_services.outbound.send(conversation, "hello")
    params = {"MessageSid": sent.external_id, "MessageStatus": "delivered", "AccountSid": "AC" + "1" * 32}
    assert post_signed(client, "/sms/status", params).status_code == 204
    assert twilio_services.messages.get(sent.id).status == "delivered"
    params = {"MessageSid": sent.external_id, "MessageStatus": "undelivered", "ErrorCode": "21610"}
    assert post_signed(client, "/sms/status", params).status_code == 204
    assert twilio_services.consent.is_opted_out(conversation.address_hash)
    assert post_signed(client, "/sms/status", {"MessageSid": "SMx", "MessageStatus": "bogus"}).status_code == 400
    assert client.post("/sms/status", data=params).status_code == 403


FIELD = st.sampled_from(["Body", "From", "MessageSid", "NumMedia", "To", "MediaUrl0", "Weird", "SmsSid"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=st.dictionaries(FIELD, st.text(max_size=300), max_size=8), signed=st.booleans())
def test_random_forms_never_cause_a_server_error(client: FlaskClient, form: dict[str, str], signed: bool) -> None:
    headers = {"X-Twilio-Signature": sign(PUBLIC + "/sms/inbound", form)} if signed else {}
    response = client.post("/sms/inbound", data=form, headers=headers)
    assert response.status_code in (200, 400, 403, 413, 415)


def test_mms_media_urls_are_stored_with_the_message_before_the_acknowledgement(
        client: FlaskClient, twilio_services: Services) -> None:
    from sqlalchemy import select

    from bot.storage.models import InboundMedia, MediaState

    params = twilio_params("", NumMedia="4", MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC1/Media/ME1",
                           MediaContentType0="image/jpeg", MediaUrl1="javascript:alert(1)",
                           MediaUrl2="https://api.twilio.com/" + "x" * 2000,
                           MediaUrl3="https://api.twilio.com/2010-04-01/Accounts/AC1/Media/ME4")
    assert post_signed(client, "/sms/inbound", params).status_code == 200
    [message] = _stored(twilio_services)
    with twilio_services.db.session() as session:
        rows = list(session.execute(select(InboundMedia).order_by(InboundMedia.position)).scalars())
    assert [(r.message_id, r.position, r.url, r.declared_type, r.state) for r in rows] == [
        (message.id, 0, "https://api.twilio.com/2010-04-01/Accounts/AC1/Media/ME1", "image/jpeg", MediaState.PENDING),
        (message.id, 1, "https://api.twilio.com/2010-04-01/Accounts/AC1/Media/ME4", None, MediaState.PENDING),
    ]

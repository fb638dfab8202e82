"""Outbound SMS through the real twilio library against a local Twilio API server."""
from __future__ import annotations

from typing import Callable

from bot.services import Services
from bot.storage.models import OutboundStatus
from tests.conftest import run_worker
from tests.fakes.twilio_api import FakeTwilio


def _twilio_services(make_services: Callable[..., Services], fake: FakeTwilio, **extra: object) -> Services:
    settings: dict[str, object] = {
        "twilio_account_sid": fake.account_sid, "twilio_auth_token": fake.auth_token,
        "twilio_from_number": "+15035550100", "twilio_api_base_url": fake.base_url,
        "public_base_url": "https://sms.portalder.example", **extra}
    return make_services(**settings)


def _conversation(services: Services, number: str = "+15035550150"):  # type: ignore[no-untyped-def]
    from bot.identity import address_hash

    return services.conversations.get_or_create("sms", address_hash("test-key", "sms", number), number)


def test_reply_goes_out_through_twilio_with_status_callback(make_services, fake_twilio) -> None:  # type: ignore[no-untyped-def]
    services = _twilio_services(make_services, fake_twilio)
    message = services.outbound.send(_conversation(services), "Hello from Port Alder PD")
    assert message.status == OutboundStatus.SENT and message.external_id == fake_twilio.sent[0].sid
    sent = fake_twilio.sent[0]
    assert sent.to == "+15035550150" and sent.from_ == "+15035550100"
    assert sent.status_callback == "https://sms.portalder.example/sms/status"


def test_messaging_service_sid_is_used_when_configured(make_services, fake_twilio) -> None:  # type: ignore[no-untyped-def]
    services = _twilio_services(make_services, fake_twilio, twilio_from_number=None,
                                twilio_messaging_service_sid="MG" + "2" * 32)
    services.outbound.send(_conversation(services), "hi")
    assert fake_twilio.sent[0].messaging_service_sid == "MG" + "2" * 32 and fake_twilio.sent[0].from_ is None


def test_nothing_is_sent_to_an_opted_out_number(make_services, fake_twilio) -> None:  # type: ignore[no-untyped-def]
    services = _twilio_services(make_services, fake_twilio)
    conversation = _conversation(services)
    services.consent.set_opted_out(conversation.address_hash, True, "STOP")
    message = services.outbound.send(conversation, "Are you still there?")
    assert message.status == OutboundStatus.BLOCKED
    assert fake_twilio.requests == 0


def test_twilio_21610_records_the_opt_out(make_services, fake_twilio) -> None:  # type: ignore[no-untyped-def]
    services = _twilio_services(make_services, fake_twilio)
    conversation = _conversation(services)
    fake_twilio.failures = [21610]
    message = services.outbound.send(conversation, "hello")
    assert message.status == OutboundStatus.BLOCKED
    assert services.consent.is_opted_out(conversation.address_hash)
    services.outbound.send(conversation, "second try")
    assert fake_twilio.requests == 1  # the ledger stopped the second one


def test_429_and_500_are_retried_by_a_job_and_then_delivered(make_services, fake_twilio) -> None:  # type: ignore[no-untyped-def]
    services = _twilio_services(make_services, fake_twilio)
    fake_twilio.failures = [429, 500]
    message = services.outbound.send(_conversation(services), "retry me")
    assert message.status == OutboundStatus.RETRYING
    run_worker(services)
    final = services.messages.get(message.id)
    assert final.status == OutboundStatus.SENT and final.attempts == 3
    assert [m.body for m in fake_twilio.sent] == ["retry me"]


def test_retries_are_bounded(make_services, fake_twilio) -> None:  # type: ignore[no-untyped-def]
    services = _twilio_services(make_services, fake_twilio)
    fake_twilio.failures = [500] * 10
    message = services.outbound.send(_conversation(services), "never arrives")
    run_worker(services)
    final = services.messages.get(message.id)
    assert final.status == OutboundStatus.FAILED
    assert fake_twilio.requests == 3  # first try + the two configured retries
    assert fake_twilio.sent == []


def test_development_outbox_records_without_sending(make_services) -> None:  # type: ignore[no-untyped-def]
    services = make_services()
    message = services.outbound.send(_conversation(services), "kept for the dev phone")
    assert message.status == OutboundStatus.RECORDED and message.external_id.startswith("DV")


def test_long_text_is_cut_to_twilios_maximum(make_services) -> None:  # type: ignore[no-untyped-def]
    services = make_services()
    message = services.outbound.send(_conversation(services), "word " * 1000)
    assert len(message.text) <= 1600

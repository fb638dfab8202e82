"""A turn interrupted after Rasa answered (its replies recorded, the first one sent, the worker
stopped before the message was marked handled) is not run again: the next attempt sends the
replies still waiting, once each, and Rasa hears the message once. Here the interruption is a
job running out of its time inside Twilio's API (a killed worker leaves the same state)."""
from __future__ import annotations

from typing import Callable, Iterator

import pytest

from bot.jobs import enqueue_conversation, process_conversation
from bot.services import Services
from bot.storage.models import InboundStatus, OutboundStatus
from tests.conftest import run_worker
from tests.fakes.scripted_rasa import Reply, ScriptedRasa
from tests.fakes.twilio_api import FakeTwilio
from tests.phone import Phone
from tests.stack import wait_until


def two_replies(message: str) -> Reply:
    return [{"text": f"First: {message}"}, {"text": f"Second: {message}"}]


@pytest.fixture
def rasa() -> Iterator[ScriptedRasa]:
    server = ScriptedRasa(two_replies).start()
    yield server
    server.stop()


def test_a_turn_interrupted_while_sending_is_finished_without_asking_rasa_again(
        make_services: Callable[..., Services], rasa: ScriptedRasa, fake_twilio: FakeTwilio) -> None:
    services = make_services(rasa_url=rasa.url, twilio_account_sid=fake_twilio.account_sid,
                             twilio_auth_token=fake_twilio.auth_token, twilio_from_number="+15035550100",
                             twilio_api_base_url=fake_twilio.base_url)
    phone = Phone(services)
    phone.send("hello")
    services.queue.empty()
    services.queue.enqueue(process_conversation, phone.conversation.id, job_timeout=2)
    fake_twilio.hold(after=1)  # the first reply goes out; the second send hangs
    run_worker(services)  # ...until the job's time is up
    fake_twilio.failures.append(500)  # the hung send was never accepted
    fake_twilio.release()
    wait_until(lambda: fake_twilio.waiting == 0 and fake_twilio.requests == 2, 10, "the hung send answered")

    inbound = [m for m in services.messages.transcript(phone.conversation.id) if m.direction == "in"][0]
    assert inbound.status == InboundStatus.RECEIVED  # interrupted: not handled yet
    assert [r.status for r in services.messages.replies_to(inbound.id)] == [OutboundStatus.SENT, OutboundStatus.QUEUED]
    assert [m.body for m in fake_twilio.sent] == ["First: hello"]

    enqueue_conversation(services, phone.conversation.id)  # what the recovery sweep does
    run_worker(services)
    assert [m.body for m in fake_twilio.sent] == ["First: hello", "Second: hello"]
    assert len(rasa.received) == 1  # not asked again
    inbound = services.messages.get(inbound.id)
    assert inbound.status == InboundStatus.PROCESSED and inbound.intent == "scripted"

    assert phone.text("again") == ["First: again", "Second: again"]
    assert [m.body for m in fake_twilio.sent][2:] == ["First: again", "Second: again"]

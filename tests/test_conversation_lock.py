"""A worker answering a resident's backlog keeps the conversation's lock for as long as it works
(renewed before each message), and stops if the lock was lost, leaving the rest, in order, to a
new job. Real Redis and queue; Rasa answers from a script that plays "time passes" or "another
worker takes over" between two turns."""
from __future__ import annotations

from typing import Callable, Iterator

import pytest

from bot.jobs import LOCK_PREFIX, process_conversation
from bot.services import Services
from bot.storage.models import InboundStatus
from tests.conftest import run_worker
from tests.fakes.scripted_rasa import Reply, ScriptedRasa
from tests.phone import Phone


@pytest.fixture
def rasa() -> Iterator[ScriptedRasa]:
    server = ScriptedRasa().start()
    yield server
    server.stop()


def _backlog(services: Services, *texts: str) -> tuple[Phone, str]:
    phone = Phone(services)
    for text in texts:
        phone.send(text)
    services.queue.empty()  # the jobs are run by hand below
    return phone, f"{LOCK_PREFIX}{phone.conversation.id}"


def test_the_lock_is_renewed_before_each_message_of_a_backlog(
        make_services: Callable[..., Services], rasa: ScriptedRasa) -> None:
    services = make_services(rasa_url=rasa.url, conversation_lock_seconds=60)
    phone, key = _backlog(services, "first", "second")
    left: list[int] = []

    def script(message: str) -> Reply:
        left.append(services.redis.pttl(key))
        if message == "first":
            services.redis.pexpire(key, 2000)  # as if the first turn took 58 s
        return [{"text": f"You said: {message}"}]

    rasa.script = script
    assert process_conversation(phone.conversation.id) == 2
    assert left[0] > 50_000 and left[1] > 50_000  # renewed, not 2 s from expiring
    assert [m.text for m in phone.outbound()] == ["You said: first", "You said: second"]
    assert not services.redis.exists(key)


def test_a_lost_lock_stops_the_backlog_and_a_new_job_answers_the_rest_in_order(
        make_services: Callable[..., Services], rasa: ScriptedRasa) -> None:
    services = make_services(rasa_url=rasa.url, conversation_lock_seconds=60)
    phone, key = _backlog(services, "first", "second", "third")

    def script(message: str) -> Reply:
        if message == "first":  # the lock expired and another worker took it
            services.redis.set(key, "another-worker", px=60_000)
        return [{"text": f"You said: {message}"}]

    rasa.script = script
    assert process_conversation(phone.conversation.id) == 0
    assert [m.text for m in phone.outbound()] == ["You said: first"]
    inbound = [m for m in services.messages.transcript(phone.conversation.id) if m.direction == "in"]
    assert [m.status for m in inbound] == [InboundStatus.PROCESSED, InboundStatus.RECEIVED, InboundStatus.RECEIVED]
    assert services.redis.get(key) == b"another-worker"  # not released by the job that lost it
    assert services.queue.count == 1
    services.redis.delete(key)  # the other worker is done
    run_worker(services)
    assert [m.text for m in phone.outbound()] == ["You said: first", "You said: second", "You said: third"]

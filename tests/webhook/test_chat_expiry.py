"""Idle web chat sessions expire: after WEB_SESSION_IDLE_SECONDS without a message the token is
answered like an unknown one (401, same body), for good, and a new session works.

Time is a MutableClock the tests move forward (bot/clock.py), never a sleep; last activity is
what the database already holds (the conversation's start and its messages' times)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bot.services import Services
from bot.settings import Settings
from bot.storage.models import Conversation, Message
from bot.webchat import WebChatService, longest_silence, session_address
from tests.conftest import MutableClock, run_worker
from tests.fakes.scripted_rasa import ScriptedRasa
from tests.webhook.chat_client import API, ChatBrowser, new_client_id
from webhook.app import create_app

WEEK = 7 * 24 * 3600


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock()


@pytest.fixture
def services(make_services: Callable[..., Services], rasa: ScriptedRasa, clock: MutableClock) -> Services:
    return make_services(clock=clock, rasa_url=rasa.url)  # the default limit: a week


@pytest.fixture
def client(services: Services) -> Iterator[FlaskClient]:
    with create_app(services=services).test_client() as c:
        yield c


def _messages(services: Services) -> int:
    with services.db.session() as session:
        return int(session.execute(select(func.count()).select_from(Message)).scalar_one())


def _conversation(services: Services, browser: ChatBrowser) -> Conversation:
    with services.db.session() as session:
        return session.execute(select(Conversation).where(
            Conversation.address == session_address(browser.token))).scalar_one()


def _refused(browser: ChatBrowser) -> None:
    """Both endpoints answer exactly as they do for a token that never existed."""
    unknown = ChatBrowser.__new__(ChatBrowser)
    unknown.client, unknown.headers, unknown.token, unknown.last_id = browser.client, {}, "x" * 43, 0
    for attempt in (browser, unknown):
        read = attempt.fetch(after=0)
        sent = attempt.post("are you still there?")
        assert read.status_code == sent.status_code == 401
        assert read.mimetype == sent.mimetype == "application/json"
        assert read.json == sent.json == {"error": "unknown or expired chat session: start a new one",
                                          "status": 401}


def test_the_default_limit_is_a_week_and_comes_from_the_environment() -> None:
    assert Settings().web_session_idle_seconds == WEEK
    assert Settings.from_env({}).web_session_idle_seconds == WEEK
    assert Settings.from_env({"WEB_SESSION_IDLE_SECONDS": "3600"}).web_session_idle_seconds == 3600


def test_a_session_idle_past_the_limit_is_refused_like_an_unknown_one(
        client: FlaskClient, services: Services, clock: MutableClock) -> None:
    browser = ChatBrowser(client)
    browser.say("hello")
    run_worker(services)
    assert [m["text"] for m in browser.read()] == ["hello", "You said: hello"]
    stored = _messages(services)

    clock.advance(seconds=WEEK)  # exactly the limit: still the same chat
    assert browser.fetch(after=0).status_code == 200
    clock.advance(seconds=1)  # one second more: gone
    _refused(browser)
    assert _messages(services) == stored  # the refused message was not stored

    fresh = ChatBrowser(client)  # what the widget does next
    assert fresh.token != browser.token
    fresh.say("hello again")
    run_worker(services)
    assert [m["text"] for m in fresh.read()] == ["hello again", "You said: hello again"]
    assert _conversation(services, fresh).id != _conversation(services, browser).id
    _refused(browser)  # and the old one stays refused


def test_any_message_keeps_a_session_alive(client: FlaskClient, services: Services, clock: MutableClock) -> None:
    browser = ChatBrowser(client)
    for _ in range(3):  # three weeks in all, never a week of silence
        clock.advance(days=6)
        browser.say("still here")
        clock.advance(days=6)
        run_worker(services)  # the assistant's answer counts as a message too
    assert browser.fetch(after=0).status_code == 200
    assert len(browser.read()) == 6


def test_a_session_that_never_had_a_message_expires_from_its_start(
        client: FlaskClient, services: Services, clock: MutableClock) -> None:
    browser = ChatBrowser(client)
    clock.advance(days=7, seconds=1)
    _refused(browser)


def test_a_staff_reply_after_the_silence_does_not_revive_the_token(
        client: FlaskClient, services: Services, clock: MutableClock) -> None:
    """A token left on a shared computer stays dead even if something is written to its chat later,
    whether or not anyone tried the token in between."""
    refused_first, never_tried = ChatBrowser(client), ChatBrowser(client)
    refused_first.say("hi")
    never_tried.say("hi")
    run_worker(services)
    clock.advance(days=8)
    _refused(refused_first)
    for browser in (refused_first, never_tried):
        services.outbound.send(_conversation(services, browser), "Sorry for the wait. Officer Diaz.", author="staff")
    for browser in (refused_first, never_tried):
        _refused(browser)
        response = browser.client.get(f"{API}/messages?after=0&wait=1", headers=browser.auth)
        assert response.status_code == 401


def test_the_limit_is_a_setting(make_services: Callable[..., Services], clock: MutableClock) -> None:
    client = create_app(services=make_services(clock=clock, web_session_idle_seconds=60)).test_client()
    browser = ChatBrowser(client)
    clock.advance(seconds=59)
    assert browser.post("hi", client_id=new_client_id()).status_code == 202
    clock.advance(seconds=61)
    _refused(browser)


def test_zero_turns_expiry_off(make_services: Callable[..., Services], clock: MutableClock) -> None:
    client = create_app(services=make_services(clock=clock, web_session_idle_seconds=0)).test_client()
    browser = ChatBrowser(client)
    clock.advance(days=400)
    assert browser.fetch(after=0).status_code == 200


def test_the_service_finds_only_live_sessions(services: Services, clock: MutableClock) -> None:
    chat = WebChatService(services)
    token, conversation = chat.start("es")
    found = chat.find(token)
    assert found is not None and found.id == conversation.id and not chat.expired(conversation)
    clock.advance(days=7, minutes=1)
    assert chat.find(token) is None and chat.expired(conversation)


def test_longest_silence_over_the_transcript() -> None:
    start = datetime(2026, 1, 1)
    day = timedelta(days=1)
    assert longest_silence(start, [], start + day) == day
    assert longest_silence(start, [start + 2 * day, start + 3 * day], start + 4 * day) == 2 * day
    # a gap in the middle counts even when the last message is recent
    assert longest_silence(start, [start + day, start + 9 * day], start + 9 * day) == 8 * day
    # a timestamp slightly out of order (two replicas' clocks) never shortens or breaks the answer
    assert longest_silence(start, [start + 2 * day, start + day], start + 3 * day) == 2 * day

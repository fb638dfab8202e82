"""The web chat API: sessions, storage before acknowledgement, dedupe, ordering, long polling,
buttons, and the pipeline's web rules (safety screen yes, SMS consent keywords no).

Real Redis and RQ, SQLite and PostgreSQL; Rasa is a scripted stand-in on a loopback port
(the trained model's own answers are tested in tests/test_pipeline.py)."""
from __future__ import annotations

import json
import threading
import time
from typing import Callable, Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from bot.services import Services
from bot.storage.models import Conversation, InboundStatus, Message
from bot.webchat import session_address
from tests.conftest import run_worker
from tests.fakes.scripted_rasa import ScriptedRasa
from tests.webhook.chat_client import API, ChatBrowser
from webhook.app import create_app


@pytest.fixture
def services(make_services: Callable[..., Services], rasa: ScriptedRasa) -> Services:
    return make_services(rasa_url=rasa.url)


@pytest.fixture
def client(services: Services) -> Iterator[FlaskClient]:
    with create_app(services=services).test_client() as c:
        yield c


def _rows(services: Services, model: type) -> list:  # type: ignore[type-arg]
    with services.db.session() as session:
        return list(session.execute(select(model)).scalars())


def _conversation(services: Services, browser: ChatBrowser) -> Conversation:
    conversations = [c for c in _rows(services, Conversation) if c.address == session_address(browser.token)]
    assert len(conversations) == 1
    return conversations[0]


# -- sessions ------------------------------------------------------------------------------------

def test_a_session_is_an_unguessable_token_that_the_database_never_holds(client: FlaskClient,
                                                                        services: Services) -> None:
    first, second = ChatBrowser(client), ChatBrowser(client, language="es")
    assert len(first.token) == 43 and first.token != second.token
    conversations = _rows(services, Conversation)
    assert [(c.channel, c.language) for c in conversations] == [("web", "en"), ("web", "es")]
    stored = json.dumps([[c.address, c.address_hash] for c in conversations])
    assert first.token not in stored and second.token not in stored


def test_a_session_can_start_without_a_body_and_ignores_unknown_languages(client: FlaskClient,
                                                                          services: Services) -> None:
    assert client.post(f"{API}/sessions").status_code == 201
    response = client.post(f"{API}/sessions", json={"language": "fr"})
    assert response.status_code == 201 and response.json["language"] is None


def test_a_reload_with_the_same_token_reads_the_whole_conversation(client: FlaskClient, services: Services) -> None:
    browser = ChatBrowser(client)
    browser.say("hello there")
    run_worker(services)
    reloaded = ChatBrowser.__new__(ChatBrowser)
    reloaded.client, reloaded.headers, reloaded.token, reloaded.last_id = client, {}, browser.token, 0
    assert [(m["direction"], m["text"]) for m in reloaded.read()] == [
        ("in", "hello there"), ("out", "You said: hello there")]


# -- sending ---------------------------------------------------------------------------------------

def test_a_message_is_stored_and_queued_before_it_is_acknowledged(client: FlaskClient, services: Services) -> None:
    browser = ChatBrowser(client)
    response = browser.post("how do i join neighborhood watch")
    assert response.status_code == 202 and response.json["status"] == "accepted"
    stored = services.messages.get(response.json["id"])
    assert (stored.channel, stored.direction, stored.text, stored.status) == (
        "web", "in", "how do i join neighborhood watch", InboundStatus.RECEIVED)
    assert stored.conversation_id == _conversation(services, browser).id
    assert services.queue.count == 1


def test_the_same_client_id_twice_is_one_message_and_one_job(client: FlaskClient, services: Services) -> None:
    browser = ChatBrowser(client)
    first = browser.post("hi", client_id="retry-0001")
    again = browser.post("hi", client_id="retry-0001")
    assert first.status_code == again.status_code == 202
    assert again.json == {"id": first.json["id"], "status": "duplicate"}
    assert len([m for m in _rows(services, Message) if m.direction == "in"]) == 1
    assert services.queue.count == 1


def test_the_database_catches_a_duplicate_when_redis_forgot(client: FlaskClient, services: Services) -> None:
    browser = ChatBrowser(client)
    first = browser.post("hi", client_id="retry-0002")
    services.redis.delete(*services.redis.keys("assistant:seen:*"))
    again = browser.post("hi", client_id="retry-0002")
    assert again.json == {"id": first.json["id"], "status": "duplicate"}
    assert services.queue.count == 1


def test_client_ids_belong_to_their_session(client: FlaskClient, services: Services) -> None:
    one, two = ChatBrowser(client), ChatBrowser(client)
    assert one.say("mine", client_id="same-id-1") != two.say("yours", client_id="same-id-1")
    assert [m["text"] for m in one.read()] == ["mine"] and [m["text"] for m in two.read()] == ["yours"]


# -- reading -----------------------------------------------------------------------------------------

def test_messages_come_back_in_order_and_after_returns_only_newer_ones(client: FlaskClient, rasa: ScriptedRasa,
                                                                       services: Services) -> None:
    browser = ChatBrowser(client)
    ids = [browser.say(text) for text in ("one", "two", "three")]
    run_worker(services)
    everything = browser.read(after=0)
    assert [(m["direction"], m["text"]) for m in everything] == [
        ("in", "one"), ("in", "two"), ("in", "three"),
        ("out", "You said: one"), ("out", "You said: two"), ("out", "You said: three")]
    assert [m["id"] for m in everything] == sorted(m["id"] for m in everything)
    assert [m["message"] for m in rasa.received] == ["one", "two", "three"]
    assert [m["text"] for m in browser.read(after=ids[1])] == ["three", "You said: one", "You said: two",
                                                                "You said: three"]
    assert browser.read(after=everything[-1]["id"]) == []
    assert browser.read(after=2**62) == []
    assert set(everything[0]) == {"id", "direction", "author", "text", "buttons", "at"}


def test_a_read_with_something_new_returns_at_once_even_when_asked_to_wait(client: FlaskClient,
                                                                          services: Services) -> None:
    browser = ChatBrowser(client)
    browser.say("anyone there?")
    started = time.monotonic()
    response = browser.fetch(after=0, wait=20)
    assert response.status_code == 200 and [m["text"] for m in response.json["messages"]] == ["anyone there?"]
    assert time.monotonic() - started < 2


def test_every_waiting_read_wakes_up_when_a_reply_is_stored(services: Services) -> None:
    """Long polling: readers block in Redis until the outbound path says something is new; two
    tabs (or a reload whose old request still waits) all wake."""
    browser = ChatBrowser(create_app(services=services).test_client())
    browser.read()  # nothing yet
    conversation = _conversation(services, browser)
    channel = services.chat_notifier.channel(conversation.id)
    results: list[object] = []

    def tab() -> None:  # a client of its own in each thread
        client = create_app(services=services).test_client()
        results.append(client.get(f"{API}/messages?after=0&wait=20", headers=browser.auth))

    readers = [threading.Thread(target=tab) for _ in range(2)]
    started = time.monotonic()
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + 10
    while dict(services.redis.pubsub_numsub(channel)).get(channel.encode(), 0) < 2:  # both are waiting
        assert time.monotonic() < deadline
    services.outbound.send(conversation, "A reply from staff", author="staff")
    for reader in readers:
        reader.join(timeout=15)
    assert len(results) == 2
    for response in results:
        assert [(m["author"], m["text"]) for m in response.json["messages"]] == [("staff", "A reply from staff")]
    assert time.monotonic() - started < 10


def test_a_waiting_read_without_news_ends_empty_after_its_wait(client: FlaskClient, services: Services) -> None:
    browser = ChatBrowser(client)
    response = browser.fetch(after=0, wait=1)
    assert response.status_code == 200 and response.json["messages"] == []


def test_one_session_never_sees_another_sessions_messages(client: FlaskClient, services: Services) -> None:
    one, two = ChatBrowser(client), ChatBrowser(client)
    one.say("my address is 12 Elm St")
    run_worker(services)
    assert two.read(after=0) == []


# -- the pipeline on the web -------------------------------------------------------------------------

def test_buttons_arrive_as_buttons_with_titles_only_and_a_click_sends_the_payload(
        client: FlaskClient, rasa: ScriptedRasa, services: Services) -> None:
    browser = ChatBrowser(client)
    browser.say("what can you do")
    run_worker(services)
    reply = browser.replies()[-1]
    assert reply["text"] == "Here's what I can do." and "Reply with a number" not in reply["text"]
    assert reply["buttons"] == ["Community meetings", "Talk to a person"]
    assert "/list_meetings" not in json.dumps(reply)
    browser.say("Community meetings")  # what the widget sends when the button is clicked
    run_worker(services)
    assert rasa.received[-1]["message"] == "/list_meetings"
    assert rasa.received[-1]["metadata"]["channel"] == "web"
    assert browser.replies()[-1]["text"] == "You said: /list_meetings"


def test_an_emergency_gets_the_911_answer_without_rasa_and_flags_the_conversation(
        client: FlaskClient, rasa: ScriptedRasa, services: Services) -> None:
    browser = ChatBrowser(client)
    browser.say("someone is breaking into my neighbor's house right now")
    run_worker(services)
    replies = browser.replies()
    assert len(replies) == 2 and "911" in replies[0]["text"]
    assert "MENU" in replies[1]["text"]  # a person will read it too; "menu" brings the assistant back
    assert [m["message"] for m in rasa.received] == ["/leave_form"]  # the words never reach Rasa
    conversation = _conversation(services, browser)
    assert conversation.flagged and conversation.flag_reason == "emergency"
    handoff = services.handoff_store.open_for(conversation.id)
    assert handoff is not None and handoff.reason == "emergency" and handoff.priority == 1


def test_sms_consent_keywords_do_not_apply_on_the_web(client: FlaskClient, rasa: ScriptedRasa,
                                                      services: Services) -> None:
    browser = ChatBrowser(client)
    browser.say("STOP")
    run_worker(services)
    assert [m["message"] for m in rasa.received] == ["STOP"]
    assert browser.replies()[-1]["text"] == "You said: STOP"
    assert not services.consent.is_opted_out(_conversation(services, browser).address_hash)


def test_spanish_session_follows_the_resident_language(client: FlaskClient, rasa: ScriptedRasa,
                                                       services: Services) -> None:
    browser = ChatBrowser(client, language="es")
    browser.say("hola")
    run_worker(services)
    assert rasa.received[-1]["metadata"]["language"] == "es"
    assert browser.fetch(after=0).json["language"] == "es"


def test_a_staff_reply_through_the_outbound_path_reaches_the_widget(client: FlaskClient, services: Services) -> None:
    browser = ChatBrowser(client)
    browser.say("can a person help me?")
    services.outbound.send(_conversation(services, browser), "Hi, this is Officer Diaz.", author="staff")
    assert [(m["author"], m["text"]) for m in browser.replies()] == [("staff", "Hi, this is Officer Diaz.")]


def test_an_image_in_a_reply_reaches_the_widget_as_a_line_of_its_own(make_services: Callable[..., Services]) -> None:
    """Rasa responses with `image:`: the widget shows a line that is only an image address as the
    image (webhook/static/widget.js; seen in the browser test)."""
    image = "https://img.portalderpd.example/maps/station.png"
    server = ScriptedRasa(lambda message: [{"text": "Here is a map of the station.", "image": image},
                                           {"image": image}]).start()
    try:
        services = make_services(rasa_url=server.url)
        browser = ChatBrowser(create_app(services=services).test_client())
        browser.say("where is the station")
        run_worker(services)
        assert [m["text"] for m in browser.replies()] == [f"Here is a map of the station.\n{image}", image]
    finally:
        server.stop()

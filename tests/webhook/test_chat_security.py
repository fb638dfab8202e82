"""The web chat API's guards: tokens, allowed origins (CORS), rate limits per session and per IP,
size limits, malformed input (clear JSON errors, never a 500), and text returned as data."""
from __future__ import annotations

import json
import secrets
from typing import Any, Callable, Iterator

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from bot.services import Services
from bot.storage.models import Conversation, Message
from tests.webhook.chat_client import API, ChatBrowser, new_client_id
from webhook.app import create_app

SITE = "https://www.portalder.example"


@pytest.fixture
def services(make_services: Callable[..., Services]) -> Services:
    return make_services(web_allowed_origins=(SITE,))


@pytest.fixture
def client(services: Services) -> Iterator[FlaskClient]:
    with create_app(services=services).test_client() as c:
        yield c


def _count(services: Services, model: type, **where: Any) -> int:
    with services.db.session() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(session.execute(query).scalar_one())


def _error(response) -> str:  # type: ignore[no-untyped-def]
    assert response.mimetype == "application/json", response.data[:200]
    assert response.json["status"] == response.status_code
    return str(response.json["error"])


# -- tokens --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("header", [
    None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not-a-token",
    "Bearer " + "A" * 43, "Bearer " + secrets.token_urlsafe(32), "Bearer " + secrets.token_urlsafe(32) + "x",
])
def test_missing_malformed_forged_or_unknown_tokens_are_401(client: FlaskClient, services: Services,
                                                             header: str | None) -> None:
    ChatBrowser(client)  # a real session exists; none of these headers is it
    headers = {"Authorization": header} if header is not None else {}
    read = client.get(f"{API}/messages", headers=headers)
    sent = client.post(f"{API}/messages", json={"text": "hi", "client_id": new_client_id()}, headers=headers)
    assert read.status_code == sent.status_code == 401
    assert "session" in _error(read)
    assert _count(services, Message) == 0


def test_a_token_is_bound_to_its_own_conversation(client: FlaskClient, services: Services) -> None:
    one, two = ChatBrowser(client), ChatBrowser(client)
    one.say("one's secret")
    two.say("two's message")
    assert [m["text"] for m in one.read()] == ["one's secret"]
    assert [m["text"] for m in two.read()] == ["two's message"]


# -- origins (CORS) --------------------------------------------------------------------------------------

def test_an_allowed_origin_gets_cors_headers(client: FlaskClient) -> None:
    browser = ChatBrowser(client, Origin=SITE)
    response = browser.post("hi")
    assert response.status_code == 202
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in response.headers  # the token is not a cookie
    read = browser.fetch(after=0)
    assert read.headers["Access-Control-Allow-Origin"] == SITE


def test_the_preflight_of_an_allowed_origin_allows_the_token_header(client: FlaskClient) -> None:
    response = client.options(f"{API}/messages", headers={
        "Origin": SITE, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]


@pytest.mark.parametrize("origin", ["https://evil.example", "http://www.portalder.example", "null",
                                    SITE + ".evil.example", "https://www.portalder.example:8443"])
def test_any_other_origin_is_refused_without_cors_headers(client: FlaskClient, services: Services,
                                                          origin: str) -> None:
    preflight = client.options(f"{API}/sessions", headers={"Origin": origin,
                                                           "Access-Control-Request-Method": "POST"})
    started = client.post(f"{API}/sessions", json={}, headers={"Origin": origin})
    strings = client.get(f"{API}/strings", headers={"Origin": origin})
    for response in (preflight, started, strings):
        assert response.status_code == 403
        assert "Access-Control-Allow-Origin" not in response.headers
    assert "WEB_ALLOWED_ORIGINS" in _error(started)
    assert _count(services, Conversation) == 0


def test_the_webhooks_own_origin_and_requests_without_origin_are_allowed(client: FlaskClient) -> None:
    assert ChatBrowser(client, Origin="http://localhost").post("hi").status_code == 202
    response = client.post(f"{API}/sessions")
    assert response.status_code == 201 and "Access-Control-Allow-Origin" not in response.headers


def test_a_wildcard_allows_any_origin(make_services: Callable[..., Services]) -> None:
    client = create_app(services=make_services(web_allowed_origins=("*",))).test_client()
    response = client.post(f"{API}/sessions", headers={"Origin": "https://anyone.example"})
    assert response.status_code == 201
    assert response.headers["Access-Control-Allow-Origin"] == "https://anyone.example"


def test_allowed_origins_come_from_the_environment() -> None:
    from bot.settings import Settings

    settings = Settings.from_env({"WEB_ALLOWED_ORIGINS": " https://www.city.gov/ ,https://city.gov"})
    assert settings.web_allowed_origins == ("https://www.city.gov", "https://city.gov")
    assert Settings.from_env({}).web_allowed_origins == ()


# -- rate limits -------------------------------------------------------------------------------------------

def test_a_flooding_session_is_limited_but_every_message_is_kept(make_services: Callable[..., Services]) -> None:
    services = make_services(rate_limit_count=2)
    browser = ChatBrowser(create_app(services=services).test_client())
    statuses = [browser.post(f"spam {i}").json["status"] for i in range(4)]
    assert statuses == ["accepted", "accepted", "rate_limited", "rate_limited"]
    assert _count(services, Message, direction="in") == 4
    assert _count(services, Message, intent="rate_limited") == 2
    assert services.queue.count == 3  # two conversation jobs + one "slow down" notice


def test_one_address_sending_too_much_gets_429_and_nothing_is_stored(make_services: Callable[..., Services]) -> None:
    services = make_services(web_ip_rate_limit_count=3)
    client = create_app(services=services).test_client()
    one, two = ChatBrowser(client), ChatBrowser(client)
    assert [one.post("a").status_code, two.post("b").status_code, one.post("c").status_code] == [202] * 3
    refused = two.post("d")
    assert refused.status_code == 429 and "too many" in _error(refused)
    assert refused.headers["Retry-After"] == "60"
    assert _count(services, Message) == 3
    elsewhere = client.post(f"{API}/messages", json={"text": "e", "client_id": new_client_id()},
                            headers=one.auth, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert elsewhere.status_code == 202


def test_new_sessions_per_address_are_limited(make_services: Callable[..., Services]) -> None:
    services = make_services(web_sessions_per_ip=2)
    client = create_app(services=services).test_client()
    statuses = [client.post(f"{API}/sessions").status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
    assert client.post(f"{API}/sessions", environ_base={"REMOTE_ADDR": "198.51.100.8"}).status_code == 201


def test_behind_a_trusted_proxy_the_forwarded_address_is_limited(make_services: Callable[..., Services]) -> None:
    services = make_services(web_sessions_per_ip=1, trust_forwarded_headers=True)
    client = create_app(services=services).test_client()

    def start(forwarded: str) -> int:
        return client.post(f"{API}/sessions", headers={"X-Forwarded-For": forwarded}).status_code

    assert start("203.0.113.5, 198.51.100.1") == 201
    assert start("203.0.113.99, 198.51.100.1") == 429  # a client cannot dodge it by writing the header
    assert start("198.51.100.2") == 201


# -- size limits and malformed input ------------------------------------------------------------------------

def test_the_longest_allowed_message_is_accepted_and_one_more_character_is_413(client: FlaskClient,
                                                                              services: Services) -> None:
    browser = ChatBrowser(client)
    limit = services.settings.max_body_chars
    assert browser.post("x" * limit).status_code == 202
    too_long = browser.post("x" * (limit + 1))
    assert too_long.status_code == 413 and str(limit) in _error(too_long)
    huge = browser.post("y" * 100_000)
    assert huge.status_code == 413 and _error(huge)
    assert _count(services, Message) == 1


@pytest.mark.parametrize("body, content_type, status, says", [
    (b"{not json", "application/json", 400, "not valid JSON"),
    (b"", "application/json", 400, "not valid JSON"),
    (b'["text"]', "application/json", 400, "JSON object"),
    (b'"hi"', "application/json", 400, "JSON object"),
    (b"text=hi", "application/x-www-form-urlencoded", 415, "application/json"),
    (b'{"text": "hi", "client_id": "abcdefgh"}', "text/plain", 415, "application/json"),
    (b'{"client_id": "abcdefgh"}', "application/json", 400, "'text'"),
    (b'{"text": 5, "client_id": "abcdefgh"}', "application/json", 400, "'text'"),
    (b'{"text": "   ", "client_id": "abcdefgh"}', "application/json", 400, "empty"),
    (b'{"text": "\\u0000", "client_id": "abcdefgh"}', "application/json", 400, "empty"),
    (b'{"text": "hi"}', "application/json", 400, "client_id"),
    (b'{"text": "hi", "client_id": "short"}', "application/json", 400, "client_id"),
    (b'{"text": "hi", "client_id": "has spaces in it"}', "application/json", 400, "client_id"),
    (b'{"text": "hi", "client_id": ["abcdefgh"]}', "application/json", 400, "client_id"),
    (b'\xff\xfe{"text": "hi"}', "application/json", 400, "not valid JSON"),
])
def test_malformed_messages_get_a_clear_json_error(client: FlaskClient, services: Services, body: bytes,
                                                  content_type: str, status: int, says: str) -> None:
    browser = ChatBrowser(client)
    response = client.post(f"{API}/messages", data=body, content_type=content_type, headers=browser.auth)
    assert response.status_code == status
    assert says in _error(response)
    assert _count(services, Message) == 0


@pytest.mark.parametrize("query", ["after=-1", "after=abc", "after=1.5", "wait=-1", "wait=21", "wait=soon"])
def test_bad_read_parameters_are_400(client: FlaskClient, query: str) -> None:
    response = client.get(f"{API}/messages?{query}", headers=ChatBrowser(client).auth)
    assert response.status_code == 400 and "whole number" in _error(response)


def test_bad_session_bodies_are_400(client: FlaskClient) -> None:
    assert client.post(f"{API}/sessions", data=b"{", content_type="application/json").status_code == 400
    assert client.post(f"{API}/sessions", json={"language": 5}).status_code == 400
    assert client.post(f"{API}/sessions", data=b"x", content_type="text/plain").status_code == 415


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=50),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                        max_size=3), max_leaves=6)


@pytest.fixture
def roomy_client(make_services: Callable[..., Services]) -> FlaskClient:
    """No limit gets in the way of many requests from one test address."""
    services = make_services(web_sessions_per_ip=10_000, web_ip_rate_limit_count=10_000, rate_limit_count=10_000)
    return create_app(services=services).test_client()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(st.sampled_from(["text", "client_id", "language", "x"]), JSON_VALUES, max_size=4),
       raw=st.binary(max_size=60), use_raw=st.booleans())
def test_random_bodies_never_cause_a_server_error(roomy_client: FlaskClient, body: dict[str, Any], raw: bytes,
                                                  use_raw: bool) -> None:
    client = roomy_client
    browser = ChatBrowser(client)
    data = raw if use_raw else json.dumps(body).encode()
    for path in ("/messages", "/sessions"):
        response = client.post(API + path, data=data, content_type="application/json", headers=browser.auth)
        assert response.status_code in (201, 202, 400, 413), response.data[:300]
        assert response.mimetype == "application/json"


# -- output is data, never markup -----------------------------------------------------------------------------

def test_markup_goes_back_as_json_text_exactly_as_written(client: FlaskClient, services: Services) -> None:
    browser = ChatBrowser(client)
    attack = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    browser.say(attack)
    services.outbound.send(services.conversations.get(services.messages.get(browser.read(after=0)[0]["id"])
                                                      .conversation_id), "staff says </p><b>hi</b>", author="staff")
    response = browser.fetch(after=0)
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert [m["text"] for m in response.json["messages"]] == [attack, "staff says </p><b>hi</b>"]
    assert b"<script>" not in response.data  # JSON escapes '<' so no browser sniffs it as HTML

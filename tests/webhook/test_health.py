"""/healthz, /readyz and /metrics: what a load balancer and Prometheus see, and who may see it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from typing import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from bot.services import Services
from bot.settings import ROOT, Settings
from bot.storage.models import HandoffReason
from tests.fakes.scripted_rasa import ScriptedRasa
from tests.fakes.server import LoopbackServer, QuietHandler
from tests.webhook.conftest import PUBLIC, TOKEN, post_signed, twilio_params
from webhook.app import create_app

OUTSIDE = {"REMOTE_ADDR": "203.0.113.7"}
NUMBER = "+15035550177"


class RasaRoot:
    """Rasa's GET / ("Hello from Rasa: 3.6.21"), which it answers once its model is loaded."""

    def start(self) -> "RasaRoot":
        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = b"Hello from Rasa: 3.6.21"
                self.send_response(200 if self.path == "/" else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = LoopbackServer(Handler)
        return self

    @property
    def url(self) -> str:
        return self._server.url

    def stop(self) -> None:
        self._server.stop()


@pytest.fixture
def rasa_root() -> Iterator[RasaRoot]:
    server = RasaRoot().start()
    yield server
    server.stop()


def _client(services: Services) -> FlaskClient:
    return create_app(services=services).test_client()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _scrape(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.content_type.startswith("text/plain")
    return _samples(response.get_data(as_text=True))


# -- /healthz and /readyz ----------------------------------------------------------------------

def test_healthz_answers_anyone(make_services: Callable[..., Services]) -> None:
    response = _client(make_services()).get("/healthz", environ_base=OUTSIDE)
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_is_200_when_redis_database_and_rasa_answer(make_services: Callable[..., Services],
                                                          rasa_root: RasaRoot) -> None:
    response = _client(make_services(rasa_url=rasa_root.url)).get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "failed": [],
                                   "checks": {"redis": "ok", "database": "ok", "rasa": "ok"}}


def test_readyz_is_503_naming_rasa_when_rasa_is_down(make_services: Callable[..., Services]) -> None:
    response = _client(make_services(rasa_url="http://127.0.0.1:9")).get("/readyz")
    body = response.get_json()
    assert response.status_code == 503 and body["status"] == "unavailable"
    assert body["failed"] == ["rasa"] and body["checks"]["redis"] == body["checks"]["database"] == "ok"


def test_readyz_is_503_naming_what_is_down_without_leaking_addresses(make_services: Callable[..., Services],
                                                                     rasa_root: RasaRoot) -> None:
    services = make_services(rasa_url=rasa_root.url, redis_url="redis://127.0.0.1:1/0",
                             database_url="postgresql://nobody:s3cret-pw@127.0.0.1:1/none")
    response = _client(services).get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failed"] == ["database", "redis"]
    assert response.get_json()["checks"]["rasa"] == "ok"
    assert b"s3cret" not in response.data and b"127.0.0.1" not in response.data


def test_readyz_with_a_rasa_that_is_not_ready_is_503(make_services: Callable[..., Services]) -> None:
    """Something answers at RASA_URL, but not Rasa's GET / (here: the scripted REST channel)."""
    rasa = ScriptedRasa().start()
    try:
        response = _client(make_services(rasa_url=rasa.url)).get("/readyz")
    finally:
        rasa.stop()
    assert response.status_code == 503 and response.get_json()["failed"] == ["rasa"]


def test_readyz_gives_up_on_a_rasa_that_does_not_answer(make_services: Callable[..., Services]) -> None:
    """A hung Rasa (accepts, never answers) costs the probe its 2 s timeout, not the LB's patience."""
    release = threading.Event()

    class Hung(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802
            release.wait(10)

    server = LoopbackServer(Hung)
    try:
        started = time.monotonic()
        response = _client(make_services(rasa_url=server.url)).get("/readyz")
        elapsed = time.monotonic() - started
    finally:
        release.set()
        server.stop()
    assert response.status_code == 503
    assert response.get_json()["checks"]["rasa"] == "unavailable (ReadTimeout)"
    assert elapsed < 3.5


# -- who may read /readyz and /metrics ---------------------------------------------------------

def test_metrics_and_readyz_are_404_outside_the_allowed_addresses(make_services: Callable[..., Services]) -> None:
    client = _client(make_services())
    for path in ("/metrics", "/readyz"):
        assert client.get(path, environ_base=OUTSIDE).status_code == 404
        assert client.get(path, environ_base={"REMOTE_ADDR": "::1"}).status_code in (200, 503)
        assert client.get(path, environ_base={"REMOTE_ADDR": "::ffff:127.0.0.1"}).status_code in (200, 503)


def test_a_request_relayed_by_a_proxy_counts_as_outside(make_services: Callable[..., Services]) -> None:
    """nginx on the same host connects from 127.0.0.1 on behalf of anyone on the internet."""
    client = _client(make_services())
    assert client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.4"}).status_code == 404
    assert client.get("/metrics", headers={"X-Real-IP": "198.51.100.4"}).status_code == 404
    assert client.get("/metrics").status_code == 200


def test_allowed_networks_and_star(make_services: Callable[..., Services]) -> None:
    inside = _client(make_services(metrics_allowed_ips=("10.0.0.0/8",)))
    assert inside.get("/metrics", environ_base={"REMOTE_ADDR": "10.20.30.40"}).status_code == 200
    assert inside.get("/metrics").status_code == 404  # 127.0.0.1 is no longer listed
    anyone = _client(make_services(metrics_allowed_ips=("*",)))
    assert anyone.get("/metrics", environ_base=OUTSIDE).status_code == 200


def test_metrics_allowed_ips_setting() -> None:
    assert Settings.from_env({}).metrics_allowed_ips == ("127.0.0.1", "::1")
    assert Settings.from_env({"METRICS_ALLOWED_IPS": " 10.0.0.0/8, 192.168.1.5 "}).metrics_allowed_ips == (
        "10.0.0.0/8", "192.168.1.5")
    assert Settings.from_env({"METRICS_ALLOWED_IPS": "*"}).metrics_allowed_ips == ("*",)
    with pytest.raises(ValueError, match="METRICS_ALLOWED_IPS"):
        Settings.from_env({"METRICS_ALLOWED_IPS": "127.0.0.1,localhost"})


# -- /metrics ----------------------------------------------------------------------------------

def test_metrics_count_webhook_deliveries_and_twilio_failures(app: Flask, twilio_services: Services) -> None:
    client = app.test_client()
    params = twilio_params("how do i join neighborhood watch", sender=NUMBER)
    assert post_signed(client, "/sms/inbound", params).status_code == 200
    assert post_signed(client, "/sms/inbound", params).status_code == 200  # Twilio delivers it again
    status = {"MessageSid": "SM" + "4" * 32, "MessageStatus": "undelivered", "ErrorCode": "30003",
              "AccountSid": "AC" + "1" * 32}
    assert post_signed(client, "/sms/status", status).status_code == 204

    response = client.get("/metrics")
    assert NUMBER.encode() not in response.data and b"neighborhood" not in response.data
    samples = _scrape(client)
    assert samples[("assistant_inbound_messages_total", (("channel", "sms"), ("outcome", "accepted")))] == 1
    assert samples[("assistant_inbound_messages_total", (("channel", "sms"), ("outcome", "duplicate")))] == 1
    assert samples[("assistant_delivery_failures_total", (("error_code", "30003"), ("status", "undelivered")))] == 1
    assert samples[("assistant_queue_depth", (("queue", "inbound"),))] == 1
    assert samples[("assistant_reports_waiting", ())] == 0
    assert samples[("assistant_handoffs_waiting", ())] == 0
    assert samples[("assistant_scrape_source_up", (("source", "redis"),))] == 1
    assert samples[("assistant_scrape_source_up", (("source", "database"),))] == 1


def test_handoffs_waiting_counts_only_the_unclaimed_ones(make_services: Callable[..., Services]) -> None:
    """The gauge reads the handoff store: waiting counts, claimed and resolved do not."""
    services = make_services()
    store = services.handoff_store
    sam = services.staff_accounts.create("sam", "a long staff password", "staff")
    handoffs = [store.open(services.conversations.get_or_create("sms", f"hash-{n}", f"+1503555020{n}").id,
                           HandoffReason.EMERGENCY).handoff for n in range(3)]
    client = _client(services)
    assert _scrape(client)[("assistant_handoffs_waiting", ())] == 3
    assert store.claim(handoffs[0].id, sam.id) and store.resolve(handoffs[1].id, by="sam")
    assert _scrape(client)[("assistant_handoffs_waiting", ())] == 1


def test_metrics_answer_when_redis_is_down(make_services: Callable[..., Services]) -> None:
    samples = _scrape(_client(make_services(redis_url="redis://127.0.0.1:1/0")))
    assert samples[("assistant_scrape_source_up", (("source", "redis"),))] == 0
    assert samples[("assistant_scrape_source_up", (("source", "database"),))] == 1
    assert ("assistant_reports_waiting", ()) in samples


def test_worker_processes_count_into_the_same_metrics_and_log_json_without_numbers(
        make_services: Callable[..., Services], fake_twilio, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The real worker (`python -m bot.worker`, its own process) handles two texts;
    the webhook's /metrics then shows its turns, replies and safety flag, and the worker's JSON
    log lines name no phone number and quote no message."""
    fake_twilio.auth_token = TOKEN
    rasa = ScriptedRasa().start()
    try:
        services = make_services(rasa_url=rasa.url, twilio_account_sid=fake_twilio.account_sid,
                                 twilio_auth_token=TOKEN, twilio_from_number="+15035550100",
                                 twilio_api_base_url=fake_twilio.base_url, public_base_url=PUBLIC,
                                 sender_id_key="a-production-like-secret")
        client = _client(services)
        for body in ("what can you do", "someone is breaking into my house right now"):
            assert post_signed(client, "/sms/inbound", twilio_params(body, sender=NUMBER)).status_code == 200
        s = services.settings
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
               "DATABASE_URL": s.database_url, "REDIS_URL": s.redis_url, "RASA_URL": s.rasa_url,
               "SENDER_ID_KEY": s.sender_id_key, "RASA_TOKEN": "worker-test-token", "TWILIO_ACCOUNT_SID": fake_twilio.account_sid,
               "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM_NUMBER": "+15035550100",
               "TWILIO_API_BASE_URL": fake_twilio.base_url, "PUBLIC_BASE_URL": PUBLIC,
               "LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
        result = subprocess.run([sys.executable, "-m", "bot.worker", "--burst"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
    finally:
        rasa.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    # The answer; then, for the emergency, the 911 notice and word that a person will read it.
    assert [m.to for m in fake_twilio.sent] == [NUMBER, NUMBER, NUMBER]
    assert "911" in fake_twilio.sent[1].body and "staff member will also read" in fake_twilio.sent[2].body

    samples = _scrape(client)
    assert samples[("assistant_rasa_turn_seconds_count", (("outcome", "answered"),))] == 1
    assert samples[("assistant_rasa_turn_seconds_bucket", (("le", "+Inf"), ("outcome", "answered")))] == 1
    assert samples[("assistant_safety_flags_total", (("kind", "emergency"),))] == 1
    assert samples[("assistant_outbound_messages_total", (("channel", "sms"), ("outcome", "sent")))] == 3
    assert samples[("assistant_queue_depth", (("queue", "inbound"),))] == 0
    # The worker's handoff is waiting for staff, and any webhook's scrape counts it (the database).
    assert samples[("assistant_handoffs_waiting", ())] == services.handoff_store.waiting_count() == 1

    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]
    assert entries and all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)
    assert any(entry["logger"] == "bot.pipeline" for entry in entries)  # the safety flag warning
    output = result.stdout + result.stderr
    for secret in (NUMBER, NUMBER[2:], NUMBER[-7:], "breaking into", "what can you do"):
        assert secret not in output

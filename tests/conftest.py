"""Shared fixtures: a real Redis, real databases (SQLite, and PostgreSQL when
TEST_POSTGRES_URL is set, as in CI), a real Rasa server + action server trained from
this repository, and local stand-ins for Twilio's API."""
from __future__ import annotations

import os
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlparse, urlunparse

import pytest
import redis
from rq import SimpleWorker
from sqlalchemy import create_engine, text

from bot.services import Services, use_services
from bot.settings import Settings
from bot.storage.migrate import upgrade
from scripts.localredis import LocalRedis
from scripts.rasa_servers import MODEL, RasaServers, demo_database
from tests.fakes.media import FakeMediaHost
from tests.fakes.open311 import FakeOpen311
from tests.fakes.twilio_api import FakeTwilio

DB_BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_POSTGRES_URL") else [])


class MutableClock:
    """A clock tests move forward instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 24, 17, 0, 0)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


# -- Redis ---------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRedis]:
    server = LocalRedis(workdir=tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: LocalRedis) -> str:
    if redis_server.process is None or redis_server.process.poll() is not None:
        redis_server.start()
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.close()
    return redis_server.url


# -- Databases -----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    admin = os.environ.get("TEST_POSTGRES_URL")
    if not admin:
        yield None
        return
    name = f"assistant_test_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT", future=True)
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    parsed = urlparse(admin)
    url = urlunparse(parsed._replace(path=f"/{name}"))
    upgrade(url)
    yield url
    with engine.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    engine.dispose()


@pytest.fixture(params=DB_BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'assistant.db'}"
        upgrade(url)
        return url
    assert postgres_url is not None
    engine = create_engine(postgres_url, future=True)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE report_outbox, report_photos, reports, signup_notices, signups, meetings, "
                          "messages, conversations, opt_outs, handoffs, staff_notes, staff_accounts, audit_log "
                          "RESTART IDENTITY CASCADE"))
    engine.dispose()
    return postgres_url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'assistant.db'}"
    upgrade(url)
    return url


# -- Settings and services -----------------------------------------------------------------

@pytest.fixture
def base_settings(database_url: str, redis_url: str) -> Settings:
    return Settings(
        database_url=database_url, redis_url=redis_url, rasa_url="http://127.0.0.1:9",
        rasa_timeout=5.0, sender_id_key="test-key", turn_retry_delays=(0.0,),
        outbound_retry_delays=(0.0, 0.0), recovery_age_seconds=60, log_level="WARNING",
    )


@pytest.fixture
def make_services(base_settings: Settings) -> Iterator[Callable[..., Services]]:
    built: list[Services] = []

    def factory(clock: MutableClock | None = None, **overrides: object) -> Services:
        services = Services(replace(base_settings, **overrides), clock or MutableClock())
        built.append(services)
        use_services(services)
        return services

    yield factory
    use_services(None)
    for services in built:
        if "db" in services.__dict__:
            services.db.dispose()
        if "redis" in services.__dict__:
            services.redis.close()


def run_worker(services: Services) -> None:
    """Process every queued job in this process, until the queue is empty (RQ burst mode)."""
    use_services(services)
    SimpleWorker([services.queue], connection=services.redis).work(burst=True, logging_level="WARNING")


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    server = FakeTwilio().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def media_host() -> Iterator[FakeMediaHost]:
    """Serves MMS pictures like Twilio's media URLs (one server per test module)."""
    server = FakeMediaHost().start()
    yield server
    server.stop()


@pytest.fixture
def fresh_media_host(media_host: FakeMediaHost) -> FakeMediaHost:
    """The module's media host with no requests seen and no outage scripted."""
    media_host.requests.clear()
    media_host.failures.clear()
    return media_host


@pytest.fixture(scope="module")
def open311_server() -> Iterator[FakeOpen311]:
    """A local GeoReport v2 server (one per test module; `reset()` it per test)."""
    server = FakeOpen311().start()
    yield server
    server.stop()


# -- A real Rasa server and action server ----------------------------------------------------

class RasaStack:
    def __init__(self, servers: RasaServers, database_url: str) -> None:
        self.url = servers.url
        self.action_url = servers.action_url
        self.processes = servers.processes
        # The action server reads meetings and sign-ups here: live tests share it.
        self.database_url = database_url


@pytest.fixture(scope="session")
def rasa_stack(tmp_path_factory: pytest.TempPathFactory, redis_server: LocalRedis) -> Iterator[RasaStack]:
    if not MODEL.exists():
        raise RuntimeError("no trained model: run `make model` (make test does it)")
    database_url = demo_database(tmp_path_factory.mktemp("stack-db"))
    env = {**os.environ,
           "RASA_REDIS_HOST": "127.0.0.1", "RASA_REDIS_PORT": str(redis_server.port), "RASA_REDIS_DB": "1",
           "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "DATABASE_URL": database_url, "SENDER_ID_KEY": "test-key",
           "PUBLIC_BASE_URL": "https://assistant.example",
           # the action server opens handoffs: its queue signal goes to the tests' Redis
           "REDIS_URL": redis_server.url}
    servers = RasaServers(env, tmp_path_factory.mktemp("rasa-logs"), Settings().rasa_token).start()
    try:
        yield RasaStack(servers, database_url)
    finally:
        servers.stop()


@pytest.fixture
def live(make_services: Callable[..., Services], rasa_stack: RasaStack) -> Services:
    """Services talking to the session's real Rasa and action servers (and their database)."""
    return make_services(rasa_url=rasa_stack.url, database_url=rasa_stack.database_url)

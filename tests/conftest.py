"""Shared fixtures: a real Redis, real databases (SQLite, and PostgreSQL when
TEST_POSTGRES_URL is set, as in CI), a real Rasa server + action server trained from
this repository, and local stand-ins for Twilio's API."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlparse, urlunparse
from zoneinfo import ZoneInfo

import pytest
import redis
import requests
from rq import SimpleWorker
from sqlalchemy import create_engine, text

from bot.clock import SystemClock
from bot.department import DepartmentProfile
from bot.meetings.catalog import CatalogService
from bot.meetings.demo_calendar import demo_calendar
from bot.services import Services, use_services
from bot.settings import ROOT, Settings
from bot.storage.database import Database
from bot.storage.migrate import upgrade
from scripts.localredis import LocalRedis, free_port
from tests.fakes.media import FakeMediaHost
from tests.fakes.open311 import FakeOpen311
from tests.fakes.twilio_api import FakeTwilio

MODEL = ROOT / "models" / "assistant.tar.gz"
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
    def __init__(self, url: str, action_url: str, processes: list[subprocess.Popen[bytes]],
                 database_url: str) -> None:
        self.url = url
        self.action_url = action_url
        self.processes = processes
        # The action server reads meetings and sign-ups here: live tests share it.
        self.database_url = database_url


def _stack_database(directory: Path) -> str:
    """A migrated SQLite database holding the demo meetings calendar (as `make run` has)."""
    url = f"sqlite:///{directory / 'assistant.db'}"
    upgrade(url)
    profile = DepartmentProfile.load(ROOT / "department.yml")
    clock = SystemClock()
    today = clock.now().replace(tzinfo=timezone.utc).astimezone(ZoneInfo(profile.timezone)).date()
    db = Database(url)
    try:
        CatalogService(db, clock, profile.timezone, profile.languages).import_ics(
            demo_calendar(today, profile.timezone))
    finally:
        db.dispose()
    return url


def _wait_http(url: str, process: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # readiness probe of a booting server
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {timeout}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def rasa_stack(tmp_path_factory: pytest.TempPathFactory, redis_server: LocalRedis) -> Iterator[RasaStack]:
    if not MODEL.exists():
        raise RuntimeError("no trained model: run `make model` (make test does it)")
    logs = tmp_path_factory.mktemp("rasa-logs")
    database_url = _stack_database(tmp_path_factory.mktemp("stack-db"))
    rasa_port, action_port = free_port(), free_port()
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT),
           "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
           "RASA_REDIS_HOST": "127.0.0.1", "RASA_REDIS_PORT": str(redis_server.port), "RASA_REDIS_DB": "1",
           "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "DATABASE_URL": database_url, "SENDER_ID_KEY": "test-key",
           "PUBLIC_BASE_URL": "https://assistant.example",
           # the action server opens handoffs: its queue signal goes to the tests' Redis
           "REDIS_URL": redis_server.url}
    action_log, rasa_log = logs / "actions.log", logs / "rasa.log"
    actions = subprocess.Popen(
        [str(bin_dir / "rasa"), "run", "actions", "--actions", "actions", "--port", str(action_port)],
        cwd=ROOT, env=env, stdout=open(action_log, "wb"), stderr=subprocess.STDOUT)
    server = subprocess.Popen(
        [str(bin_dir / "rasa"), "run", "--model", str(MODEL), "--interface", "127.0.0.1",
         "--port", str(rasa_port), "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
         "--enable-api", "--auth-token", Settings().rasa_token],
        cwd=ROOT, env=env, stdout=open(rasa_log, "wb"), stderr=subprocess.STDOUT)
    stack = RasaStack(f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{action_port}", [actions, server],
                      database_url)
    try:
        _wait_http(f"{stack.action_url}/health", actions, 120, action_log)
        _wait_http(f"{stack.url}/webhooks/rest/", server, 300, rasa_log)
        yield stack
    finally:
        for process in (server, actions):
            process.terminate()
        for process in (server, actions):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def live(make_services: Callable[..., Services], rasa_stack: RasaStack) -> Services:
    """Services talking to the session's real Rasa and action servers (and their database)."""
    return make_services(rasa_url=rasa_stack.url, database_url=rasa_stack.database_url)

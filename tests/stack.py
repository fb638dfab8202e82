"""A whole deployment as separate processes, for the scale-out and fault tests
(tests/test_scale_out.py, tests/test_faults.py): what README "Production" runs, on one machine.

- Redis of its own (scripts/localredis.py), so the fault tests can restart and pause it without
  touching the session's Redis: the assistant on DB 0, Rasa's tracker and lock stores on DB 1.
- The database: a PostgreSQL database of its own when TEST_POSTGRES_URL is set (what production
  runs, and several writer processes are its normal case), else a SQLite file (`make run`'s).
- 2 Rasa server replicas (`rasa run`, sharing the Redis tracker and lock stores of endpoints.yml)
  and an action server, behind `RasaBalancer`: an HTTP proxy in the test process standing for the
  internal load balancer README describes (RASA_URL names one address). It sends each
  conversation's consecutive turns to different replicas, the hardest case for shared state.
- 2 gunicorn webhook processes with Twilio configured; Twilio's REST API is `FakeTwilio`
  (tests/fakes/twilio_api.py, the real twilio library talks to it).
- 2 `python -m bot.worker` and a `python -m bot.sweeper` (recovery every second).

Started once per test session, by the first module that asks (about a minute, mostly the two
Rasa servers loading the model), and stopped when the session ends. Tests share it, so each
uses fresh residents (phone numbers) and looks only at their conversations.

Residents talk to it through `Resident`: signed Twilio webhook POSTs, redelivered like Twilio
(another webhook process, backoff) when a delivery fails or takes longer than Twilio waits.
`Deployment.settle()` then checks every resident's transcript and what Twilio was asked to send.
"""
from __future__ import annotations

import http.client
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Sequence
from urllib.parse import urlparse, urlunparse

import psutil
import pytest
import redis
import requests
from sqlalchemy import create_engine, text

from bot.clock import SystemClock
from bot.identity import address_hash, sender_id
from bot.services import Services
from bot.settings import ROOT, Settings
from bot.sms import normalize_gsm, render_menu
from bot.storage.migrate import upgrade
from bot.storage.models import InboundStatus, Message, OutboundStatus
from scripts.localredis import LocalRedis, free_port
from tests.fakes.twilio_api import FakeTwilio
from tests.webhook.conftest import PUBLIC, TOKEN, sign, twilio_params

MODEL = ROOT / "models" / "assistant.tar.gz"
SENDER_KEY = "stack-sender-id-key-not-the-dev-one"
RASA_TOKEN = "stack-rasa-token-not-the-dev-one"
FROM_NUMBER = "+15035550100"
TWILIO_WAIT = 15.0  # Twilio gives up on a webhook after 15 s (then retries / calls the fallback URL)
RASA_TIMEOUT = 5.0

# The deployment's settings, the same for every process. Short recovery times keep the tests
# bounded; their relations are production's: a conversation lock outlives any one turn
# (Rasa timeout + sends), and the recovery sweep waits longer than a queued job normally does.
STACK_ENV = {
    "RASA_TIMEOUT": str(RASA_TIMEOUT),
    "MAX_TURN_ATTEMPTS": "3",
    "TURN_RETRY_DELAYS": "1,2,4",
    "OUTBOUND_RETRY_DELAYS": "1,1,2,2",
    "CONVERSATION_LOCK_SECONDS": "30",
    "RECOVERY_AGE_SECONDS": "10",
    "SWEEP_INTERVAL": "1",
    "LOG_LEVEL": "INFO",
    "QUIET_HOURS": "off",
}

# Settings a developer's shell may hold that would change what the deployment does.
_FOREIGN = ("OPEN311_BASE_URL", "OPEN311_API_KEY", "HANDOFF_ONCALL_NUMBER", "TWILIO_MESSAGING_SERVICE_SID",
            "TRUST_FORWARDED_HEADERS", "LOG_FORMAT", "MEETINGS_CALENDAR", "QUEUE_NAME", "RATE_LIMIT_COUNT",
            "RATE_LIMIT_WINDOW_SECONDS", "DEDUPE_TTL_SECONDS", "DEPARTMENT_PROFILE", "DOMAIN_PATH")

# Questions whose answers are plain FAQ answers (no form, no buttons, nothing the safety screen
# flags), each answered differently, so the order of the answers shows the order of the turns.
QUESTIONS = (
    "what is community policing",
    "can i do a ride along",
    "how can i volunteer with the police department",
    "do you have programs for kids",
    "crime prevention tips",
    "vacation house check",
    "what's the non emergency number",
    "how do i get a copy of my police report",
)

_numbers: set[str] = set()
_random = random.SystemRandom()


def resident_number() -> str:
    """A number no other test of the session used (the deployment outlives each test)."""
    while True:
        number = f"+1541{_random.randrange(10**7):07d}"
        if number not in _numbers:
            _numbers.add(number)
            return number


# -- Rasa's load balancer ---------------------------------------------------------------------

class RasaBalancer:
    """HTTP proxy in front of the Rasa replicas, which share the tracker and lock stores: each
    conversation's turns alternate between the replicas, other requests go round-robin. `hold()`
    keeps turns waiting at the proxy, as a slow Rasa would, so a test can act while workers are
    inside a turn; `release()` lets them on."""

    TURN_PATH = "/webhooks/rest/webhook"

    def __init__(self, upstreams: Sequence[str]) -> None:
        self.upstreams = [urlparse(u) for u in upstreams]
        self.turns: Counter[str] = Counter()  # turns forwarded per replica
        self.senders: dict[str, set[str]] = {}  # Rasa sender id -> replicas that served its turns
        self._counter = itertools.count()
        self._turns_of: Counter[str] = Counter()
        self._open = threading.Event()
        self._open.set()
        self._lock = threading.Lock()
        self.parked = 0
        self._parked_turns: dict[int, str] = {}  # client port -> Rasa sender id, while held
        balancer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                balancer._forward(self, b"")

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                balancer._forward(self, body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def parked_turns(self) -> dict[int, str]:
        with self._lock:
            return dict(self._parked_turns)

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        is_turn = handler.path.startswith(self.TURN_PATH)
        sender = ""
        if is_turn:
            try:
                sender = str(json.loads(body).get("sender"))
            except (ValueError, AttributeError):
                pass
        if is_turn and not self._open.is_set():
            client_port = int(handler.client_address[1])
            with self._lock:
                self.parked += 1
                self._parked_turns[client_port] = sender
            try:
                self._open.wait(120)
            finally:
                with self._lock:
                    self.parked -= 1
                    self._parked_turns.pop(client_port, None)
        if is_turn:
            with self._lock:
                # each conversation's consecutive turns go to different replicas, whatever else
                # runs at the same time: its state must come from the shared tracker store
                seen = self._turns_of[sender]
                self._turns_of[sender] += 1
                upstream = self.upstreams[seen % len(self.upstreams)]
                self.turns[upstream.netloc] += 1
                self.senders.setdefault(sender, set()).add(upstream.netloc)
        else:
            upstream = self.upstreams[next(self._counter) % len(self.upstreams)]
        try:
            conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=120)
            headers = {k: v for k, v in handler.headers.items()
                       if k.lower() in ("content-type", "accept", "authorization")}
            conn.request(handler.command, handler.path, body=body or None, headers=headers)
            answer = conn.getresponse()
            payload = answer.read()
            status, content_type = answer.status, answer.getheader("Content-Type") or "application/json"
            conn.close()
        except OSError:
            payload, status, content_type = b'{"error": "upstream unavailable"}', 502, "application/json"
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:  # the worker gave up waiting (its timeout) or was killed
            pass

    def stop(self) -> None:
        self._open.set()
        self._server.shutdown()
        self._server.server_close()


# -- processes --------------------------------------------------------------------------------

@dataclass(eq=False)
class Proc:
    name: str
    args: list[str]
    log: Path
    env: dict[str, str]
    popen: subprocess.Popen[bytes] | None = None
    port: int | None = None

    def start(self) -> "Proc":
        # Its own session: a test kills a worker with everything it started (its RQ scheduler).
        self.popen = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=open(self.log, "ab"),
                                      stderr=subprocess.STDOUT, start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def tail(self, chars: int = 4000) -> str:
        """The end of the process's log, without the twilio library's request dumps."""
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return f"--- {self.name}: no log ---"
        kept = "\n".join(line for line in lines if "twilio.http_client" not in line)
        return f"--- {self.name} ({self.log}) ---\n" + kept[-chars:]

    def kill_all(self) -> None:
        """SIGKILL the process and every process it started (what an OOM kill or a lost host
        does): an RQ worker's scheduler is a child process."""
        if self.popen is None:
            return
        try:
            family = [psutil.Process(self.pid)]
            family += family[0].children(recursive=True)
        except psutil.NoSuchProcess:
            family = []
        for process in family:
            try:
                process.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                pass
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if not self.alive():
            return
        assert self.popen is not None
        try:
            os.killpg(self.pid, signal.SIGCONT)  # a stopped process cannot act on SIGTERM
        except ProcessLookupError:
            pass
        self.popen.terminate()
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill_all()


def wait_until(condition: Callable[[], object], timeout: float, what: str,
               diagnose: Callable[[], str] | None = None) -> object:
    """Poll `condition` until it returns something true, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}\n{diagnose() if diagnose else ''}")
        time.sleep(0.1)  # polling interval of the condition above


def _wait_http(url: str, proc: Proc, timeout: float) -> None:
    def ready() -> bool:
        assert proc.alive(), f"{proc.name} exited\n{proc.tail()}"
        try:
            return requests.get(url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    wait_until(ready, timeout, f"{proc.name} answers {url}", proc.tail)


# -- the database -----------------------------------------------------------------------------

class StackDatabase:
    """PostgreSQL (a database of its own on TEST_POSTGRES_URL's server) or a SQLite file."""

    def __init__(self, workdir: Path) -> None:
        self.admin_url = os.environ.get("TEST_POSTGRES_URL") or None
        if self.admin_url:
            self.name = f"assistant_stack_{uuid.uuid4().hex[:8]}"
            self._admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT", future=True)
            with self._admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            self.url = urlunparse(urlparse(self.admin_url)._replace(path=f"/{self.name}"))
        else:
            self.name = "assistant.db"
            self.url = f"sqlite:///{workdir / 'assistant.db'}"
        upgrade(self.url)

    @property
    def kind(self) -> str:
        return "postgresql" if self.admin_url else "sqlite"

    def take_down(self) -> None:
        """PostgreSQL: refuse new connections and end the open ones (a failover, a restart)."""
        assert self.admin_url
        with self._admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false'))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              f"WHERE datname = '{self.name}' AND pid <> pg_backend_pid()"))

    def bring_up(self) -> None:
        if self.admin_url:
            with self._admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true'))

    def drop(self) -> None:
        if self.admin_url:
            self.bring_up()
            with self._admin.connect() as conn:
                conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.name}'"))
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}"'))
            self._admin.dispose()


# -- residents --------------------------------------------------------------------------------

@dataclass
class Delivery:
    params: dict[str, str]
    attempts: int  # webhook POSTs until one was acknowledged with 200
    seconds: float  # from the first POST to the acknowledgement

    @property
    def sid(self) -> str:
        return self.params["MessageSid"]

    @property
    def text(self) -> str:
        return self.params["Body"]


_offsets = itertools.count()


@dataclass
class Resident:
    """One phone number texting the deployment, one message after the other (each sent when
    Twilio's previous webhook was acknowledged), alternating between the webhook processes.
    Its k-th message is QUESTIONS[offset + k]: consecutive messages have different answers."""

    deployment: "Deployment"
    number: str = field(default_factory=resident_number)
    offset: int = field(default_factory=lambda: next(_offsets))
    sent: list[Delivery] = field(default_factory=list)
    duplicates: list[Delivery] = field(default_factory=list)

    def text(self, body: str | None = None, duplicate: bool = False) -> Delivery:
        body = body or QUESTIONS[(self.offset + len(self.sent)) % len(QUESTIONS)]
        params = twilio_params(body, sender=self.number)
        delivery = self.deployment.deliver(params, first=self.offset + len(self.sent))
        self.sent.append(delivery)
        if duplicate:  # Twilio delivers the same webhook again, to the other process
            self.redeliver(delivery)
        return delivery

    def redeliver(self, delivery: Delivery) -> Delivery:
        """The same webhook (same MessageSid) again, to the webhook process after the one `text`
        used last."""
        again = self.deployment.deliver(delivery.params, first=self.offset + len(self.sent))
        self.duplicates.append(again)
        return again

    @property
    def conversation_hash(self) -> str:
        return address_hash(SENDER_KEY, "sms", self.number)

    @property
    def rasa_sender(self) -> str:
        return sender_id(SENDER_KEY, "sms", self.number)


def talk(residents: Sequence[Resident], count: int = 1, duplicate_every: int = 0) -> list[Delivery]:
    """Every resident sends its next `count` messages at the same time as the others: the
    deliveries interleave across residents and webhook processes. Every `duplicate_every`-th
    message of a resident is delivered twice. Returns the deliveries of this wave."""

    def run(resident: Resident) -> list[Delivery]:
        wave = []
        for k in range(count):
            duplicate = bool(duplicate_every) and (len(resident.sent) + resident.offset) % duplicate_every == 0
            wave.append(resident.text(duplicate=duplicate))
        return wave

    with ThreadPoolExecutor(max_workers=max(1, len(residents))) as pool:
        return [d for wave in pool.map(run, residents) for d in wave]


# -- the deployment ---------------------------------------------------------------------------

class Deployment:
    """The processes, their shared Redis and database, Twilio's stand-in, and what a test needs
    to talk to it, break it (`kill_worker`, the balancer's hold, `db.take_down`...) and check it."""

    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="assistant-stack-"))
        self.procs: list[Proc] = []
        self.redis = LocalRedis(workdir=self.workdir / "redis")
        self.twilio = FakeTwilio(auth_token=TOKEN)
        self.db: StackDatabase | None = None
        self.balancer: RasaBalancer | None = None
        self.rasa: list[Proc] = []
        self.webhooks: list[Proc] = []
        self.workers: list[Proc] = []
        self.sweeper: Proc | None = None
        self._worker_count = itertools.count(1)
        self._answers: dict[str, list[str]] | None = None
        self.services: Services | None = None
        self.env: dict[str, str] = {}

    # -- start and stop -------------------------------------------------------------------------

    def start(self, rasa_replicas: int = 2, webhooks: int = 2, workers: int = 2) -> "Deployment":
        if not MODEL.exists():
            raise RuntimeError("no trained model: run `make model` (make test does it)")
        bin_dir = Path(sys.executable).parent
        self.redis.start()
        self.twilio.start()
        self.db = StackDatabase(self.workdir)
        rasa_ports = [free_port() for _ in range(rasa_replicas)]
        action_port = free_port()
        self.balancer = RasaBalancer([f"http://127.0.0.1:{port}" for port in rasa_ports])
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        base = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
        self.env = {
            **base, **STACK_ENV, "PYTHONPATH": path, "DATABASE_URL": self.db.url, "REDIS_URL": self.redis.url,
            "RASA_URL": self.balancer.url, "RASA_TOKEN": RASA_TOKEN, "SENDER_ID_KEY": SENDER_KEY,
            "TWILIO_ACCOUNT_SID": self.twilio.account_sid, "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_FROM_NUMBER": FROM_NUMBER, "TWILIO_API_BASE_URL": self.twilio.base_url,
            "PUBLIC_BASE_URL": PUBLIC, "REPORT_PHOTO_DIR": str(self.workdir / "photos"),
            "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
            "RASA_REDIS_HOST": "127.0.0.1", "RASA_REDIS_PORT": str(self.redis.port), "RASA_REDIS_DB": "1",
        }
        actions = self._proc("actions", [str(bin_dir / "rasa"), "run", "actions", "--actions", "actions",
                                         "--port", str(action_port)])
        for index, port in enumerate(rasa_ports, start=1):
            self.rasa.append(self._proc(f"rasa{index}", [
                str(bin_dir / "rasa"), "run", "--model", str(MODEL), "--interface", "127.0.0.1", "--port", str(port),
                "--endpoints", "endpoints.yml", "--credentials", "credentials.yml", "--enable-api",
                "--auth-token", RASA_TOKEN], port=port))
        for index in range(1, webhooks + 1):
            port = free_port()
            self.webhooks.append(self._proc(f"webhook{index}", [
                str(bin_dir / "gunicorn"), "--workers", "1", "--threads", "8", "--graceful-timeout", "5",
                "--bind", f"127.0.0.1:{port}", "webhook.app:create_app()"], port=port))
        for _ in range(workers):
            self.start_worker()
        self.sweeper = self._proc("sweeper", [sys.executable, "-m", "bot.sweeper"])
        self.services = Services(Settings.from_env(self.env), SystemClock())
        for webhook in self.webhooks:
            _wait_http(f"http://127.0.0.1:{webhook.port}/healthz", webhook, 60)
        _wait_http(f"http://127.0.0.1:{action_port}/health", actions, 120)
        for replica in self.rasa:
            _wait_http(f"http://127.0.0.1:{replica.port}/webhooks/rest/", replica, 300)
        return self

    def _proc(self, name: str, args: list[str], port: int | None = None) -> Proc:
        proc = Proc(name, args, self.workdir / f"{name}.log", self.env, port=port).start()
        self.procs.append(proc)
        return proc

    def start_worker(self) -> Proc:
        """A new worker replica (what a supervisor does after one died)."""
        worker = self._proc(f"worker{next(self._worker_count)}", [sys.executable, "-m", "bot.worker"])
        self.workers.append(worker)
        return worker

    def stop(self) -> None:
        if self.balancer:
            self.balancer.release()
        if self.db:
            self.db.bring_up()
        for proc in reversed(self.procs):
            proc.stop()
        if self.balancer:
            self.balancer.stop()
        if self.services:
            self.services.db.dispose()
            self.services.redis.close()
        self.twilio.stop()
        self.redis.stop()
        if self.db:
            self.db.drop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # -- state between tests ------------------------------------------------------------------

    def heal(self) -> None:
        """Back to the healthy deployment after a test, whatever it left behind."""
        assert self.balancer and self.db
        self.balancer.release()
        self.twilio.release()
        self.twilio.failures.clear()
        for replica in self.rasa:
            os.kill(replica.pid, signal.SIGCONT)
        if self.redis.process is None or self.redis.process.poll() is not None:
            self.redis.start()
        admin = redis.Redis.from_url(self.redis.url, socket_timeout=10)
        admin.execute_command("CLIENT", "UNPAUSE")
        admin.close()
        self.db.bring_up()
        self.workers = [w for w in self.workers if w.alive()]
        while len(self.workers) < 2:
            self.start_worker()

    def check_alive(self) -> None:
        dead = [p for p in self.procs if p in self.workers + self.webhooks + self.rasa + [self.sweeper]
                and not p.alive()]
        assert not dead, "processes exited:\n" + "\n".join(p.tail() for p in dead)

    def diagnose(self) -> str:
        return "\n".join(p.tail(2500) for p in self.workers + self.webhooks + [self.sweeper] if p)

    # -- Twilio's side ----------------------------------------------------------------------------

    def deliver(self, params: dict[str, str], first: int = 0, give_up_after: float = 90.0) -> Delivery:
        """POST one inbound webhook as Twilio does; when it fails (5xx, no answer within 15 s),
        deliver it again to the next webhook process, backing off (Twilio's retries with
        connection overrides, or the fallback URL)."""
        signature = sign(PUBLIC + "/sms/inbound", params)
        started = time.monotonic()
        delay = 0.25
        for attempt in itertools.count(1):
            webhook = self.webhooks[(first + attempt - 1) % len(self.webhooks)]
            try:
                response = requests.post(f"http://127.0.0.1:{webhook.port}/sms/inbound", data=params,
                                         headers={"X-Twilio-Signature": signature}, timeout=TWILIO_WAIT)
                if response.status_code == 200:
                    return Delivery(params, attempt, time.monotonic() - started)
                assert response.status_code >= 500, f"webhook answered {response.status_code}: {response.text}"
            except requests.RequestException:
                pass
            if time.monotonic() - started > give_up_after:
                raise AssertionError(f"webhook never acknowledged {params['MessageSid']}\n{self.diagnose()}")
            time.sleep(delay)  # Twilio's backoff before it delivers the webhook again
            delay = min(delay * 2, 4.0)
        raise AssertionError("unreachable")

    def sent_to(self, number: str) -> list[str]:
        return [m.body for m in list(self.twilio.sent) if m.to == number]

    # -- what the assistant says --------------------------------------------------------------

    def rendered(self, response: str) -> str:
        """A domain.yml response as the pipeline sends it by SMS (English)."""
        assert self.services
        pipeline = self.services.pipeline
        text_ = self.services.catalog.render(response, pipeline.slots("en"))
        return normalize_gsm(render_menu(text_.text, text_.buttons, "en"))

    @property
    def apology(self) -> str:
        return self.rendered("utter_service_apology")

    def answers(self) -> dict[str, list[str]]:
        """What each question of QUESTIONS is answered with, through the whole deployment (each
        asked by a new resident): the reference the scale-out and fault tests compare with."""
        if self._answers is None:
            residents = [Resident(self) for _ in QUESTIONS]
            with ThreadPoolExecutor(max_workers=len(QUESTIONS)) as pool:
                list(pool.map(lambda pair: pair[0].text(pair[1]), zip(residents, QUESTIONS)))
            wait_until(lambda: all(self._finished(r) for r in residents), 120, "calibration answers",
                       self.diagnose)
            answers = {q: self.sent_to(r.number) for q, r in zip(QUESTIONS, residents)}
            for question, bodies in answers.items():
                assert bodies and self.apology not in bodies, f"{question!r} was answered {bodies}"
            assert len({tuple(b) for b in answers.values()}) == len(QUESTIONS), answers
            self._answers = answers
        return self._answers

    # -- checking the outcome -------------------------------------------------------------------

    def transcript(self, resident: Resident) -> list[Message]:
        assert self.services
        conversation = self.services.conversations.find("sms", resident.conversation_hash)
        return [] if conversation is None else self.services.messages.transcript(conversation.id)

    def _finished(self, resident: Resident) -> bool:
        """Every stored message handled, every reply settled, and Twilio asked for each."""
        try:
            messages = self.transcript(resident)
        except Exception:  # the database may be the fault under test
            return False
        inbound = [m for m in messages if m.direction == "in"]
        outbound = [m for m in messages if m.direction == "out"]
        if len(inbound) < len(resident.sent) or any(m.status in InboundStatus.PENDING for m in inbound):
            return False
        if any(m.status in (OutboundStatus.QUEUED, OutboundStatus.RETRYING) for m in outbound):
            return False
        return len(self.sent_to(resident.number)) >= len(outbound)

    def settle(self, residents: Sequence[Resident], timeout: float = 120.0) -> dict[str, int]:
        """Wait until every resident's messages are handled, then check, for each resident:
        each inbound message stored once, in the order sent; each handled (processed, or failed
        with the apology); the replies, in the transcript and as Twilio was asked to send them,
        exactly the answers of the messages in their order (nothing lost, nothing twice); each
        reply recorded after the message it answers. Returns counts for the test to assert on."""
        answers = self.answers()
        started = time.monotonic()
        wait_until(lambda: all(self._finished(r) for r in residents), timeout,
                   "every message answered", lambda: self._state(residents) + "\n" + self.diagnose())
        print(f"settled {len(residents)} resident(s) in {time.monotonic() - started:.1f} s")
        counts: Counter[str] = Counter()
        for resident in residents:
            messages = self.transcript(resident)
            inbound = [m for m in messages if m.direction == "in"]
            assert [m.external_id for m in inbound] == [d.sid for d in resident.sent], \
                f"{resident.number}: inbound stored {[m.text for m in inbound]}, sent {[d.text for d in resident.sent]}"
            expected: list[str] = []
            for message in inbound:
                if message.status == InboundStatus.PROCESSED:
                    expected += answers[message.text]
                    counts["answered"] += 1
                else:
                    assert message.status == InboundStatus.FAILED, (message.text, message.status)
                    expected.append(self.apology)
                    counts["apologised"] += 1
            replies = [m for m in messages if m.direction == "out"]
            assert [m.text for m in replies] == expected, f"{resident.number}: replies out of order or not once"
            assert all(m.status == OutboundStatus.SENT for m in replies), [(m.text[:30], m.status) for m in replies]
            assert self.sent_to(resident.number) == expected, \
                f"{resident.number}: Twilio was asked to send {self.sent_to(resident.number)}, expected {expected}"
            # each reply is recorded after the message it answers
            position = 0
            for index, message in enumerate(inbound):
                share = len(answers[message.text]) if message.status == InboundStatus.PROCESSED else 1
                for reply in replies[position:position + share]:
                    assert reply.id > message.id, (resident.number, index)
                position += share
            counts["retried"] += sum(1 for m in replies if (m.attempts or 0) > 1)
            counts["extra_attempts"] += sum(max(0, (m.attempts or 0) - 1) for m in replies)
            counts["turn_retries"] += sum(1 for m in inbound if (m.attempts or 0) > 0)
        print("counts:", dict(counts))
        return dict(counts)

    def failed_turns(self, residents: Sequence[Resident]) -> int:
        """Inbound messages of these residents with a failed turn so far (retried or not)."""
        return sum(1 for r in residents for m in self.transcript(r) if m.direction == "in" and (m.attempts or 0) > 0)

    def no_reply_in_flight(self, residents: Sequence[Resident]) -> bool:
        """No turn of these residents is between its first send and being marked handled: every
        reply recorded as sent, and as many as the handled messages call for."""
        answers = self.answers()
        for resident in residents:
            messages = self.transcript(resident)
            replies = [m for m in messages if m.direction == "out"]
            if any(m.status != OutboundStatus.SENT for m in replies):
                return False
            due = sum(len(answers[m.text]) if m.status == InboundStatus.PROCESSED else 1
                      for m in messages if m.direction == "in" and m.status not in InboundStatus.PENDING)
            if len(replies) != due:
                return False
        return True

    def recovered(self) -> None:
        """Recovered by itself: a new resident's questions get their normal answers."""
        self.check_alive()
        resident = Resident(self)
        resident.text()
        resident.text()
        counts = self.settle([resident], timeout=90)
        assert counts.get("answered") == 2 and not counts.get("apologised"), counts

    def _state(self, residents: Sequence[Resident]) -> str:
        lines = []
        for resident in residents:
            try:
                messages = self.transcript(resident)
            except Exception as exc:
                lines.append(f"{resident.number}: {type(exc).__name__}")
                continue
            lines.append(f"{resident.number}: sent {len(resident.sent)}; " + ", ".join(
                f"{m.id}{m.direction}:{m.status}" for m in messages))
        return "\n".join(lines)

    # -- faults ---------------------------------------------------------------------------------

    def kill_worker(self, worker: Proc) -> None:
        """kill -9 of the worker and every process it started; it leaves the deployment."""
        worker.kill_all()
        self.workers.remove(worker)

    def runs_scheduler(self, worker: Proc) -> bool:
        """Whether an RQ scheduler process runs in this worker: a child in the worker's own process
        group. RQ's Redis records of schedulers do not survive a Redis restart, the process tree
        does."""
        try:
            return any(os.getpgid(child.pid) == worker.pid
                       for child in psutil.Process(worker.pid).children(recursive=True))
        except (psutil.NoSuchProcess, ProcessLookupError):
            return False

    def workers_in_turn(self) -> dict[Proc, str]:
        """Worker -> Rasa sender id of the turn it is waiting for at the balancer (matched by
        the worker's TCP connection to the balancer: RQ's registry of workers does not survive
        a Redis restart, the process table does)."""
        assert self.balancer
        parked = self.balancer.parked_turns()
        found: dict[Proc, str] = {}
        for worker in self.workers:
            if not worker.alive():
                continue
            try:
                for conn in psutil.Process(worker.pid).net_connections(kind="tcp"):
                    if conn.raddr and conn.raddr.port == self.balancer.port and conn.laddr.port in parked:
                        found[worker] = parked[conn.laddr.port]
            except psutil.NoSuchProcess:
                continue
        return found


_deployment: Deployment | None = None


def shared_deployment(config: pytest.Config) -> Deployment:
    """The session's deployment, started on first use (with the reference answers asked before
    any load or fault) and stopped when pytest ends."""
    global _deployment
    if _deployment is None:
        deployment = Deployment()
        config.add_cleanup(deployment.stop)
        try:
            deployment.start()
        except BaseException:
            print("\n".join(p.tail() for p in deployment.procs), file=sys.stderr)
            raise
        deployment.answers()
        _deployment = deployment
    return _deployment

"""`make bench`: latency and throughput of the whole SMS path, side by side with Rasa alone and
with Rasa 3.6's built-in Twilio channel, on this machine, in one bounded run (issue #8).

What it starts (production-like, every process separate, all on 127.0.0.1, all stopped at the
end, on Ctrl-C or on an error):
- a private Redis (queue, dedupe, locks; Rasa's tracker and lock stores in DB 1);
- PostgreSQL: a fresh database `bench` on BENCH_POSTGRES_URL's server (else SQLite, said so);
- BENCH_REPLICAS Rasa servers (same model, Redis tracker/lock stores, REST channel and the
  built-in Twilio channel, see scripts/bench/rasa_twilio.py), one action server;
- our webhook under gunicorn (BENCH_WEBHOOK_WORKERS workers x 16 threads) and RQ workers
  (`python -m bot.worker`, BENCH_WORKERS per Rasa replica); no sweeper.
In this process: a local server speaking the Twilio Messages API (it receives every outbound
SMS, ours and the built-in channel's), and the simulated residents.

Residents are closed-loop: each sends a message, waits for its answer, then sends the next, from
the next of its own 20 numbers (so no number exceeds the per-number rate limit), over a fixed mix
of FAQ questions, greetings and thanks (English and Spanish) that each get one answer. "Answer":
- ours: signed POST /sms/inbound (acknowledged at once), then the outbound Messages API call for
  that number reaching the local Twilio server (end to end);
- direct Rasa REST (the floor): POST /webhooks/rest/webhook round trip;
- built-in Twilio channel (the peer): POST /webhooks/twilio/webhook round trip (it answers after
  the whole turn, outbound call included; the call is checked to have reached the local server).
Each run has a warm-up (not counted) and a measured window; throughput counts answers that
arrive inside the window. Results: printed, var/bench/latest.json and docs/bench.md.

Rounds: the loaded runs are repeated (BENCH_ROUNDS times with 1 Rasa server, one round fewer
with 2), ours and the others interleaved in a rotating order (ours, REST, built-in; then REST,
built-in, ours; ...), so that a slow minute of a shared machine falls on every system alike. A
ratio is the median of each round's ratio (ours / REST of the same round); latency percentiles
pool the rounds' measurements; every round is shown too.

Settings (environment, or `make bench BENCH_CONCURRENCY=50 ...`): BENCH_CONCURRENCY (50),
BENCH_ROUNDS (3), BENCH_SECONDS (20, measured window per run), BENCH_WARMUP (5), BENCH_IDLE_SECONDS (6: one
resident alone, the added latency without queueing; 0 skips), BENCH_BURST_SECONDS (10: acks only,
nobody waits for answers; 0 skips), BENCH_REPLICAS (2; 1 skips the two-replica runs),
BENCH_WORKERS (5 RQ workers per Rasa replica), BENCH_WEBHOOK_WORKERS (2), BENCH_PIN (1: while one
Rasa server is measured, it runs on a core of its own, everything else on the others), BENCH_TIMEOUT (30 s, an
unanswered message is counted lost), BENCH_POSTGRES_URL (an admin URL; `sqlite` forces SQLite).
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import psutil  # noqa: E402
from aiohttp import web  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from scripts.localredis import LocalRedis, free_port  # noqa: E402

MODEL = ROOT / "models" / "assistant.tar.gz"
BENCH_DIR = ROOT / "scripts" / "bench"
OUT_DIR = ROOT / "var" / "bench"
DOC = ROOT / "docs" / "bench.md"
BIN = Path(sys.executable).parent

# Credentials of the local Twilio server, made up for each run (no key lives in the repository);
# the built-in channel gets them through the environment (scripts/bench/credentials.yml).
ACCOUNT_SID = "AC" + secrets.token_hex(16)
AUTH_TOKEN = secrets.token_hex(16)
OUR_NUMBER = "+15035550100"
NUMBERS_PER_RESIDENT = 20
ACK_TIMEOUT = 15.0  # Twilio gives up on a webhook after 15 s

# Candidate messages (text, language the pipeline would pick): kept only if Rasa answers each with
# exactly one plain text message (checked at start), so "the answer" is one SMS in every system.
CANDIDATES: tuple[tuple[str, str], ...] = (
    ("hi", "en"), ("hello there", "en"), ("good morning", "en"), ("hola", "es"),
    ("thanks", "en"), ("thank you so much", "en"), ("are you a bot", "en"),
    ("what is community policing", "en"), ("how do i join neighborhood watch", "en"),
    ("tell me about the citizen academy", "en"), ("can i do a ride along", "en"),
    ("how can i volunteer with the police", "en"), ("do you have programs for teens", "en"),
    ("any tips to prevent car break ins", "en"), ("can an officer check my home security", "en"),
    ("can you watch my house while im on vacation", "en"), ("what is the non emergency number", "en"),
    ("how do i get a copy of a police report", "en"), ("how do i file a complaint about an officer", "en"),
    ("i want to commend an officer", "en"), ("i lost my wallet", "en"),
    ("how can i leave an anonymous tip", "en"), ("are you on facebook", "en"),
    ("when is the station open", "en"), ("what do you do with my data", "en"), ("can i text 911", "en"),
    ("qué es la policía comunitaria", "es"), ("cómo me uno a la vigilancia vecinal", "es"),
    ("cuál es el número que no es de emergencia", "es"), ("a qué hora abre la estación", "es"),
)

TARGETS = {
    "ack_p99_ms": 50.0,            # acknowledgement p99 at 50 concurrent residents
    "e2e_p50_vs_rest": 1.25,       # our end-to-end p50 <= 1.25x direct Rasa REST p50
    "throughput_vs_rest": 0.9,     # our sustained throughput >= 0.9x direct Rasa REST
    "throughput_vs_builtin": 1.0,  # ... and >= the built-in channel's
    "webhook_rss_mb": 150.0,       # every webhook process
}


# Our processes around Rasa (CPU roles of the meter), and every process of a deployment (no load generator)
BRIDGE = {"webhook": "webhook", "rq worker": "RQ workers", "postgres": "PostgreSQL", "redis": "Redis"}
SERVICE_ROLES = ("rasa", "actions", *BRIDGE)


def now() -> float:
    return time.perf_counter()


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- configuration ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    concurrency: int
    rounds: int
    seconds: float
    warmup: float
    idle_seconds: float
    burst_seconds: float
    replicas: int
    workers_per_rasa: int
    webhook_workers: int
    pin: bool
    timeout: float
    postgres_url: str

    @classmethod
    def parse(cls, argv: list[str] | None = None) -> "Config":
        env = os.environ

        def default(name: str, value: str) -> str:
            return env.get(name, "").strip() or value

        parser = argparse.ArgumentParser(prog="scripts/bench.py", description=__doc__.splitlines()[0])
        parser.add_argument("--concurrency", type=int, default=int(default("BENCH_CONCURRENCY", "50")))
        parser.add_argument("--rounds", type=int, default=int(default("BENCH_ROUNDS", "3")))
        parser.add_argument("--seconds", type=float, default=float(default("BENCH_SECONDS", "20")))
        parser.add_argument("--warmup", type=float, default=float(default("BENCH_WARMUP", "5")))
        parser.add_argument("--idle-seconds", type=float, default=float(default("BENCH_IDLE_SECONDS", "6")))
        parser.add_argument("--burst-seconds", type=float, default=float(default("BENCH_BURST_SECONDS", "10")))
        parser.add_argument("--replicas", type=int, choices=(1, 2), default=int(default("BENCH_REPLICAS", "2")))
        parser.add_argument("--workers", type=int, default=int(default("BENCH_WORKERS", "5")),
                            help="RQ workers per Rasa replica")
        parser.add_argument("--webhook-workers", type=int, default=int(default("BENCH_WEBHOOK_WORKERS", "2")))
        parser.add_argument("--pin", type=int, choices=(0, 1), default=int(default("BENCH_PIN", "1")),
                            help="1: with one Rasa server, run it on a core of its own")
        parser.add_argument("--timeout", type=float, default=float(default("BENCH_TIMEOUT", "30")))
        parser.add_argument("--postgres-url", default=default(
            "BENCH_POSTGRES_URL", env.get("TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"))
        args = parser.parse_args(argv)
        # Bounded: the whole run must stay well under 10 minutes on the 2-core machine.
        if not (1 <= args.concurrency <= 500):
            parser.error("concurrency must be 1..500")
        if not (5 <= args.seconds <= 120) or not (0 <= args.warmup <= 30):
            parser.error("seconds must be 5..120 and warmup 0..30")
        if not (1 <= args.rounds <= 5) or args.rounds * args.seconds > 150:
            parser.error("rounds must be 1..5, and rounds x seconds at most 150")
        if not (0 <= args.idle_seconds <= 30) or not (0 <= args.burst_seconds <= 30):
            parser.error("idle and burst seconds must be 0..30")
        if not (1 <= args.workers <= 8) or not (1 <= args.webhook_workers <= 8):
            parser.error("workers must be 1..8 per replica, webhook workers 1..8")
        return cls(args.concurrency, args.rounds, args.seconds, args.warmup, args.idle_seconds, args.burst_seconds,
                   args.replicas, args.workers, args.webhook_workers, bool(args.pin),
                   min(max(args.timeout, 5.0), 60.0), args.postgres_url)


# -- processes -------------------------------------------------------------------------------

class Processes:
    """Every process the benchmark starts, each in its own session (process group), so that
    stopping one stops its children too (gunicorn's workers, RQ's scheduler)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.role: dict[str, str] = {}
        self._lock = threading.Lock()

    def start(self, name: str, role: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        out = open(self.log_dir / f"{name}.log", "ab")
        try:
            process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            out.close()
        with self._lock:
            self.running[name] = process
            self.role[name] = role
        return process

    def pin(self, cpus_of: Callable[[str], list[int]]) -> None:
        """Run each process, with its children (gunicorn's workers, RQ's scheduler), on the CPUs
        `cpus_of(its name)`."""
        with self._lock:
            items = list(self.running.items())
        for name, process in items:
            try:
                parent = psutil.Process(process.pid)
                for proc in (parent, *parent.children(recursive=True)):
                    proc.cpu_affinity(cpus_of(name))
            except psutil.Error:  # it exited meanwhile: check_alive reports that
                pass

    def snapshot(self) -> list[tuple[str, str, int]]:
        with self._lock:
            return [(name, self.role[name], p.pid) for name, p in self.running.items() if p.poll() is None]

    def check_alive(self, names: list[str] | None = None) -> None:
        with self._lock:
            items = [(n, p) for n, p in self.running.items() if names is None or n in names]
        for name, process in items:
            if process.poll() is not None:
                tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-2500:]
                raise RuntimeError(f"{name} exited with code {process.returncode}:\n{tail}")

    def stop(self, names: list[str], timeout: float = 20.0) -> None:
        with self._lock:
            items = [(n, self.running.pop(n)) for n in names if n in self.running]
        for _, process in items:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for _, process in items:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _signal_group(process, signal.SIGKILL)  # leftovers of the group (RQ's scheduler, a gunicorn worker)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    def stop_all(self) -> None:
        with self._lock:
            names = list(self.running)
        self.stop(names)


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(process.pid, sig)  # the group this process leads (start_new_session=True)
    except (ProcessLookupError, PermissionError):
        pass


RSS_LABELS = {"rasa": "Rasa server", "actions": "action server", "rq worker": "RQ worker", "redis": "Redis",
              "harness": "bench harness"}


class ResourceMeter:
    """Samples the RSS of every started process (and their children) once a second, in a thread;
    CPU time per role between two marks (a child's CPU counts for its parent's role)."""

    def __init__(self, processes: Processes) -> None:
        self._processes = processes
        self.rss_max: dict[str, float] = {}  # label ("webhook worker") -> largest RSS seen, MB
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._cache: dict[int, psutil.Process] = {}
        self.postgres_pid: int | None = None  # a PostgreSQL server on this machine: its postmaster

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _proc(self, pid: int) -> psutil.Process:
        process = self._cache.get(pid)
        if process is None:
            process = self._cache[pid] = psutil.Process(pid)
        return process

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self.sample()
            except Exception:  # never let a vanished process stop the sampling
                pass

    def sample(self) -> None:
        for name, role, pid in self._processes.snapshot() + [("harness", "harness", os.getpid())]:
            try:
                root = self._proc(pid)
                kids = root.children(recursive=True) if role in ("webhook", "rasa", "actions") else []
                label = RSS_LABELS.get(role, role) + (f" {name.rsplit('-', 1)[1]}" if role == "rasa" else "")
                readings = [(label, root.memory_info().rss)]
                if role == "webhook":  # gunicorn: the master, and each worker process
                    readings = [("webhook master", root.memory_info().rss)]
                    readings += [("webhook worker", kid.memory_info().rss) for kid in kids]
                elif kids:
                    readings = [(label, root.memory_info().rss + sum(k.memory_info().rss for k in kids))]
            except psutil.Error:
                continue
            for label, rss in readings:
                self.rss_max[label] = max(self.rss_max.get(label, 0.0), rss / 2**20)

    def cpu_seconds(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for _, role, pid in self._processes.snapshot() + [("harness", "harness", os.getpid())]:
            try:
                root = self._proc(pid)
                # the harness's children are the processes above: count its own threads only
                members = [root] if role == "harness" else [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            for member in members:
                try:
                    t = member.cpu_times()
                except psutil.Error:
                    continue
                reaped = 0.0 if role == "harness" else t.children_user + t.children_system
                totals[role] = totals.get(role, 0.0) + t.user + t.system + reaped
        if self.postgres_pid:  # the whole server: the postmaster, its backends, the ended ones
            try:
                postmaster = self._proc(self.postgres_pid)
                for member in [postmaster, *postmaster.children()]:
                    try:
                        t = member.cpu_times()
                    except psutil.Error:
                        continue
                    totals["postgres"] = (totals.get("postgres", 0.0) + t.user + t.system
                                          + t.children_user + t.children_system)
            except psutil.Error:
                pass
        machine = psutil.cpu_times()
        totals["machine busy"] = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
        return totals


# -- the local Twilio Messages API -------------------------------------------------------------

class LocalTwilio:
    """POST /2010-04-01/Accounts/{sid}/Messages.json: records when each outbound SMS arrives and
    wakes the resident waiting for it (one answer in flight per number: closed loop)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.waiters: dict[str, asyncio.Future[float]] = {}
        self.received = 0
        self.unexpected = 0
        self.rejected = 0
        self._runner: web.AppRunner | None = None
        self._auth = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._messages)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, backlog=1024).start()

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    def expect(self, number: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters[number] = future
        return future

    def forget(self, number: str) -> None:
        self.waiters.pop(number, None)

    async def _messages(self, request: web.Request) -> web.Response:
        arrived = now()
        if request.match_info["sid"] != ACCOUNT_SID or request.headers.get("Authorization") != self._auth:
            self.rejected += 1
            return web.json_response({"code": 20003, "message": "Authenticate", "status": 401}, status=401)
        form = await request.post()
        to, body = str(form.get("To") or ""), str(form.get("Body") or "")
        if not to or not (body or form.get("MediaUrl")):
            self.rejected += 1
            return web.json_response({"code": 21602, "message": "Message body is required.", "status": 400},
                                     status=400)
        self.received += 1
        waiter = self.waiters.pop(to, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(arrived)
        else:
            self.unexpected += 1  # a second message for one turn, or an answer after its timeout
        sid = "SM" + uuid.uuid4().hex
        return web.json_response({
            "sid": sid, "account_sid": ACCOUNT_SID, "to": to, "from": form.get("From"), "body": body,
            "status": "queued", "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json"}, status=201)


# -- measurements ----------------------------------------------------------------------------

@dataclass
class Record:
    start: float
    ack: float | None
    end: float
    ok: bool
    error: str | None = None


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))  # nearest rank
    return ordered[rank]


def latency_stats(values: list[float]) -> dict[str, float | None]:
    """p50/p95/p99 in milliseconds of latencies in seconds (None where there are none)."""
    return {f"p{q}": (round(v * 1000, 1) if (v := percentile(values, q)) is not None else None)
            for q in (50, 95, 99)}


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def difference(a: float | None, b: float | None) -> float | None:
    return round(a - b, 1) if a is not None and b is not None else None


def dig(value: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return value


@dataclass
class Run:
    key: str
    label: str
    system: str  # ours | rest | twilio | burst
    replicas: int
    concurrency: int
    warmup: float
    seconds: float
    area: int  # numbers of this run: +1 <area> <resident:4> <k:3>
    round: int = 1
    result: dict[str, Any] = field(default_factory=dict)
    # the measured latencies (seconds), pooled over a group's rounds for its percentiles
    acks: list[float] = field(default_factory=list)
    e2e: list[float] = field(default_factory=list)

    def number(self, resident: int, k: int) -> str:
        return f"+1{self.area}{resident:04d}{k % 1000:03d}"


def summarize(run: Run, records: list[Record], t0: float, cpu: dict[str, float], elapsed: float,
              unexpected: int) -> dict[str, Any]:
    begin, end = t0 + run.warmup, t0 + run.warmup + run.seconds
    measured = [r for r in records if begin <= r.start < end]
    ok = [r for r in measured if r.ok]
    errors: dict[str, int] = {}
    for r in measured:
        if not r.ok:
            errors[r.error or "error"] = errors.get(r.error or "error", 0) + 1

    run.acks = [r.ack - r.start for r in ok if r.ack is not None]
    if run.system == "burst":
        done = [r for r in records if r.ok and r.ack is not None and begin <= r.ack < end]
    else:
        done = [r for r in records if r.ok and begin <= r.end < end]
        run.e2e = [r.end - r.start for r in ok]
    return {
        "key": run.key, "round": run.round, "label": run.label, "system": run.system, "replicas": run.replicas,
        "concurrency": run.concurrency, "seconds": run.seconds, "sent": len(measured), "answered": len(ok),
        "ack_ms": latency_stats(run.acks), "e2e_ms": latency_stats(run.e2e),
        "throughput": round(len(done) / run.seconds, 2),
        "errors": errors, "lost": errors.get("lost", 0) + errors.get("no outbound SMS", 0),
        "unexpected_outbound": unexpected,
        "cpu_pct": {role: round(100 * secs / elapsed, 1) for role, secs in sorted(cpu.items())},
        # CPU per answer over the whole run (warm-up and tail too, like the CPU figures)
        "cpu_ms_per_answer": {role: round(1000 * secs / answers, 1) for role, secs in sorted(cpu.items())
                              if (answers := sum(1 for r in records if r.ok)) and role != "machine busy"},
    }


def aggregate(runs: list[Run]) -> dict[str, Any]:
    """One system's runs (its rounds): median throughput, latency percentiles over every
    measured message of every round, counts and errors summed."""
    first = runs[0].result
    errors: dict[str, int] = {}
    for run in runs:
        for name, count in run.result["errors"].items():
            errors[name] = errors.get(name, 0) + count
    throughputs = [run.result["throughput"] for run in runs]
    return {
        "key": first["key"], "label": first["label"], "system": first["system"], "replicas": first["replicas"],
        "concurrency": first["concurrency"], "rounds": len(runs),
        "sent": sum(run.result["sent"] for run in runs), "answered": sum(run.result["answered"] for run in runs),
        "ack_ms": latency_stats([x for run in runs for x in run.acks]),
        "e2e_ms": latency_stats([x for run in runs for x in run.e2e]),
        "throughput": round(statistics.median(throughputs), 2), "throughput_rounds": throughputs,
        "errors": errors, "lost": sum(run.result["lost"] for run in runs),
        "unexpected_outbound": sum(run.result["unexpected_outbound"] for run in runs),
        "cpu_ms_per_answer": {role: round(statistics.mean(run.result["cpu_ms_per_answer"].get(role, 0.0)
                                                          for run in runs), 1)
                              for role in runs[0].result["cpu_ms_per_answer"]},
    }


# -- the benchmark ---------------------------------------------------------------------------

class Bench:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        self.log_dir = OUT_DIR / "logs"
        shutil.rmtree(self.log_dir, ignore_errors=True)
        self.log_dir.mkdir(parents=True)
        self.processes = Processes(self.log_dir)
        self.meter = ResourceMeter(self.processes)
        self.redis: LocalRedis | None = None
        self.twilio = LocalTwilio()
        self.database_url = ""
        self.database_kind = ""
        self.database_version = ""
        self._pg_admin: str | None = None
        self.rasa_urls: list[str] = []
        self.webhook_port = free_port()
        self.action_port = free_port()
        self.rasa_token = secrets.token_hex(16)
        self.sender_key = secrets.token_hex(24)
        self.validator = RequestValidator(AUTH_TOKEN)
        self.mix: list[tuple[str, str]] = []
        self.session: aiohttp.ClientSession | None = None
        self._rr = 0
        self.started = time.monotonic()
        self.notes: list[str] = []

    @property
    def public_base(self) -> str:
        return f"http://127.0.0.1:{self.webhook_port}"

    # -- set-up --------------------------------------------------------------------------

    def setup_database(self) -> None:
        url = self.cfg.postgres_url
        if url and url != "sqlite":
            try:
                from sqlalchemy import create_engine, text

                engine = create_engine(url, isolation_level="AUTOCOMMIT", future=True,
                                       connect_args={"connect_timeout": 3})
                with engine.connect() as conn:
                    self.database_version = str(conn.execute(text("SHOW server_version")).scalar())
                    backend = int(conn.execute(text("SELECT pg_backend_pid()")).scalar() or 0)
                    conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                      "WHERE datname = 'bench' AND pid <> pg_backend_pid()"))
                    conn.execute(text('DROP DATABASE IF EXISTS "bench"'))
                    conn.execute(text('CREATE DATABASE "bench"'))
                engine.dispose()
                self._pg_admin = url
                try:  # the server runs here (its CPU is counted) if our connection's backend does
                    self.meter.postgres_pid = psutil.Process(backend).ppid()
                except psutil.Error:
                    pass
                self.database_url = urlunparse(urlparse(url)._replace(path="/bench"))
                self.database_kind = f"PostgreSQL {self.database_version} (database `bench`)"
            except Exception as exc:
                self.notes.append(f"PostgreSQL unavailable ({type(exc).__name__}): SQLite used instead")
        if not self.database_url:
            path = OUT_DIR / "bench.db"
            for leftover in OUT_DIR.glob("bench.db*"):
                leftover.unlink()
            self.database_url = f"sqlite:///{path}"
            self.database_kind = "SQLite (var/bench/bench.db)"
        from bot.storage.migrate import upgrade

        upgrade(self.database_url)

    def drop_database(self) -> None:
        if not self._pg_admin:
            return
        try:
            from sqlalchemy import create_engine, text

            engine = create_engine(self._pg_admin, isolation_level="AUTOCOMMIT", future=True,
                                   connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'bench'"))
                conn.execute(text('DROP DATABASE IF EXISTS "bench"'))
            engine.dispose()
        except Exception as exc:
            log(f"could not drop the bench database: {type(exc).__name__}")

    def base_env(self) -> dict[str, str]:
        assert self.redis is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RASA_", "TWILIO_", "DATABASE_URL",
                                                                         "REDIS_URL", "PUBLIC_BASE_URL"))}
        env.update({
            "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1", "RASA_TELEMETRY_ENABLED": "false",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "BENCH_TWILIO_ACCOUNT_SID": ACCOUNT_SID, "BENCH_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "DATABASE_URL": self.database_url, "REDIS_URL": self.redis.url,
            "RASA_URL": self.rasa_urls[0] if self.rasa_urls else "", "RASA_TOKEN": self.rasa_token,
            "ACTION_SERVER_URL": f"http://127.0.0.1:{self.action_port}/webhook",
            "RASA_REDIS_HOST": "127.0.0.1", "RASA_REDIS_PORT": str(self.redis.port), "RASA_REDIS_DB": "1",
            "PUBLIC_BASE_URL": self.public_base, "WEBHOOK_PORT": str(self.webhook_port),
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM_NUMBER": OUR_NUMBER,
            "TWILIO_API_BASE_URL": self.twilio.base_url, "SENDER_ID_KEY": self.sender_key,
            "REPORT_PHOTO_DIR": str(OUT_DIR / "photos"),
            "BENCH_TWILIO_API_BASE_URL": self.twilio.base_url,
        })
        return env

    def start_servers(self) -> None:
        env = self.base_env()
        self.processes.start("actions", "actions", [str(BIN / "rasa"), "run", "actions", "--actions", "actions",
                                                    "--port", str(self.action_port)], env)
        for index in range(self.cfg.replicas):
            port = free_port()
            self.rasa_urls.append(f"http://127.0.0.1:{port}")
            self.processes.start(f"rasa-{index + 1}", "rasa", [
                sys.executable, str(BENCH_DIR / "rasa_twilio.py"), "run", "--model", str(MODEL),
                "--interface", "127.0.0.1", "--port", str(port), "--endpoints", "endpoints.yml",
                "--credentials", str(BENCH_DIR / "credentials.yml"), "--enable-api", "--auth-token",
                self.rasa_token], env)
        env = self.base_env()
        self.processes.start("webhook", "webhook", [
            str(BIN / "gunicorn"), "--workers", str(self.cfg.webhook_workers), "--threads", "16",
            "--bind", f"127.0.0.1:{self.webhook_port}", "webhook.app:create_app()"], env)

    def rasa_core(self) -> int | None:
        """The core Rasa server 1 has to itself while it is the one measured (BENCH_PIN), if any."""
        cores = psutil.cpu_count() or 1
        return cores - 1 if self.cfg.pin and cores >= 2 else None

    def place(self, replicas: int) -> None:
        """With one Rasa server measured, and BENCH_PIN, that server runs on a core of its own and
        every other process of the benchmark (this one too) on the others: the layout README
        advises, so that the bridge around Rasa does not take Rasa's core. With two, everything
        runs everywhere (this machine has no cores to spare for them)."""
        cores = list(range(psutil.cpu_count() or 1))
        own = self.rasa_core() if replicas == 1 else None
        rasa, others = ([own], [c for c in cores if c != own]) if own is not None else (cores, cores)
        self.processes.pin(lambda name: rasa if name == "rasa-1" else others)
        psutil.Process().cpu_affinity(others)  # the residents, the local Twilio; what this starts next

    def start_workers(self, replicas: int) -> list[str]:
        names = []
        for index in range(self.cfg.workers_per_rasa * replicas):
            env = self.base_env()
            env["RASA_URL"] = self.rasa_urls[index % replicas]  # workers split between the replicas
            name = f"worker-{replicas}r-{index + 1}"
            self.processes.start(name, "rq worker", [sys.executable, "-m", "bot.worker"], env)
            names.append(name)
        return names

    async def wait_http(self, url: str, names: list[str], timeout: float) -> None:
        assert self.session is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.processes.check_alive(names)
            try:
                async with self.session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.5)
        raise RuntimeError(f"{url} not ready after {timeout:.0f} s (logs: {self.log_dir})")

    async def wait_workers(self, names: list[str]) -> None:
        """RQ workers register themselves in Redis once they listen."""
        import redis

        client = redis.Redis.from_url(self.redis.url if self.redis else "")
        deadline = time.monotonic() + 60
        try:
            while time.monotonic() < deadline:
                self.processes.check_alive(names)
                if client.scard("rq:workers") >= len(names):
                    return
                await asyncio.sleep(0.3)
        finally:
            client.close()
        raise RuntimeError("RQ workers did not register in 60 s")

    async def queue_idle(self, timeout: float = 30.0) -> None:
        import redis

        client = redis.Redis.from_url(self.redis.url if self.redis else "")
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                busy = client.llen("rq:queue:inbound") + client.zcard("rq:wip:inbound")
                if not busy:
                    return
                await asyncio.sleep(0.3)
        finally:
            client.close()

    # -- one message per system ----------------------------------------------------------

    def twilio_form(self, number: str, text: str) -> dict[str, str]:
        sid = "SM" + uuid.uuid4().hex
        return {"ToCountry": "US", "ToState": "OR", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "PORT ALDER",
                "FromZip": "97301", "SmsSid": sid, "FromState": "OR", "SmsStatus": "received", "FromCity": "SALEM",
                "FromCountry": "US", "To": OUR_NUMBER, "ToZip": "97301", "NumSegments": "1", "MessageSid": sid,
                "AccountSid": ACCOUNT_SID, "From": number, "ApiVersion": "2010-04-01", "Body": text}

    async def _signed_post(self, number: str, text: str) -> tuple[float, int]:
        assert self.session is not None
        url = f"{self.public_base}/sms/inbound"
        form = self.twilio_form(number, text)
        headers = {"X-Twilio-Signature": self.validator.compute_signature(url, form)}
        async with self.session.post(url, data=form, headers=headers,
                                     timeout=aiohttp.ClientTimeout(total=ACK_TIMEOUT)) as response:
            await response.read()
            return now(), response.status

    async def send_ours(self, number: str, text: str, language: str) -> Record:
        waiter = self.twilio.expect(number)
        start = now()
        try:
            acked, status = await self._signed_post(number, text)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            self.twilio.forget(number)
            return Record(start, None, now(), False, f"ack {type(exc).__name__}")
        if status != 200:
            self.twilio.forget(number)
            return Record(start, acked, acked, False, f"ack HTTP {status}")
        try:
            arrived = await asyncio.wait_for(waiter, self.cfg.timeout)
        except asyncio.TimeoutError:
            self.twilio.forget(number)
            return Record(start, acked, now(), False, "lost")
        return Record(start, acked, arrived, True)

    async def send_burst(self, number: str, text: str, language: str) -> Record:
        start = now()
        try:
            acked, status = await self._signed_post(number, text)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return Record(start, None, now(), False, f"ack {type(exc).__name__}")
        return Record(start, acked, acked, status == 200, None if status == 200 else f"ack HTTP {status}")

    def _next_rasa(self, replicas: int) -> str:
        self._rr += 1
        return self.rasa_urls[self._rr % replicas]  # round robin, as an internal load balancer would

    async def send_rest(self, number: str, text: str, language: str, replicas: int = 1) -> Record:
        assert self.session is not None
        url = self._next_rasa(replicas) + "/webhooks/rest/webhook"
        payload = {"sender": number, "message": text, "metadata": {"channel": "sms", "language": language}}
        start = now()
        try:
            async with self.session.post(url, json=payload, timeout=aiohttp.ClientTimeout(total=self.cfg.timeout)) \
                    as response:
                body = await response.json(content_type=None) if response.status == 200 else None
                end = now()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            return Record(start, None, now(), False, f"{type(exc).__name__}")
        if not isinstance(body, list) or not any(isinstance(m, dict) and m.get("text") for m in body):
            return Record(start, None, end, False, "empty answer" if body == [] else f"HTTP {response.status}")
        return Record(start, None, end, True)

    async def send_twilio(self, number: str, text: str, language: str, replicas: int = 1) -> Record:
        """Rasa's built-in channel: no signature check (a signature is sent anyway, as Twilio does)."""
        assert self.session is not None
        url = self._next_rasa(replicas) + "/webhooks/twilio/webhook"
        form = self.twilio_form(number, text)
        headers = {"X-Twilio-Signature": self.validator.compute_signature(url, form)}
        waiter = self.twilio.expect(number)
        start = now()
        try:
            async with self.session.post(url, data=form, headers=headers,
                                         timeout=aiohttp.ClientTimeout(total=self.cfg.timeout)) as response:
                await response.read()
                end = now()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            self.twilio.forget(number)
            return Record(start, None, now(), False, f"{type(exc).__name__}")
        if response.status >= 300:
            self.twilio.forget(number)
            return Record(start, None, end, False, f"HTTP {response.status}")
        if not waiter.done():  # it answers Twilio only after its own outbound calls
            self.twilio.forget(number)
            return Record(start, None, end, False, "no outbound SMS")
        return Record(start, None, end, True)

    # -- runs ----------------------------------------------------------------------------

    async def calibrate(self) -> None:
        """Keep the messages that every replica answers with one plain text message (and warm
        each Rasa's first turns, which are slow, before anything is measured)."""
        assert self.session is not None
        kept = []
        for index, (text, language) in enumerate(CANDIDATES):
            single = True
            for replica, base in enumerate(self.rasa_urls):
                payload = {"sender": f"calibrate-{replica}-{index}", "message": text,
                           "metadata": {"channel": "sms", "language": language}}
                async with self.session.post(base + "/webhooks/rest/webhook", json=payload) as response:
                    body = await response.json(content_type=None)
                shown = [m for m in body if not (isinstance(m.get("custom"), dict) and "nlu" in m["custom"])]
                single = single and (len(shown) == 1 and bool(shown[0].get("text")) and not shown[0].get("buttons")
                                     and not shown[0].get("image") and "\n\n" not in shown[0]["text"])
            if single:
                kept.append((text, language))
        if len(kept) < 5:
            raise RuntimeError(f"only {len(kept)} candidate messages get a single plain answer: model changed?")
        random.Random(8).shuffle(kept)
        self.mix = kept
        log(f"message mix: {len(kept)} of {len(CANDIDATES)} candidates "
            f"({sum(1 for _, lang in kept if lang == 'es')} in Spanish) get one plain text answer")

    async def smoke(self) -> None:
        """One message through each path before anything is timed: fail fast, with the logs."""
        for send, label in ((self.send_ours, "our webhook"), (self.send_twilio, "built-in Twilio channel")):
            for attempt in range(3):
                record = await send(f"+1300000{attempt:04d}", "what is the non emergency number", "en")
                if record.ok:
                    break
                await asyncio.sleep(2)
            else:
                self.processes.check_alive()
                raise RuntimeError(f"{label}: no answer ({record.error}); logs in {self.log_dir}")

    async def run(self, run: Run) -> dict[str, Any]:
        senders: dict[str, Callable[[str, str, str], Awaitable[Record]]] = {
            "ours": self.send_ours, "burst": self.send_burst,
            "rest": lambda n, t, lang: self.send_rest(n, t, lang, run.replicas),
            "twilio": lambda n, t, lang: self.send_twilio(n, t, lang, run.replicas),
        }
        send = senders[run.system]
        records: list[Record] = []
        unexpected_before = self.twilio.unexpected
        t0 = now()
        stop = t0 + run.warmup + run.seconds
        mix = self.mix

        async def resident(index: int) -> None:
            await asyncio.sleep(random.random() * min(1.0, max(run.warmup, 0.1)))  # no thundering herd
            k = 0
            while now() < stop:
                text, language = mix[(index * 7 + k) % len(mix)]
                # burst: a new number each message (nobody waits, no per-number rate limit)
                number = run.number(index, k if run.system == "burst" else k % NUMBERS_PER_RESIDENT)
                records.append(await send(number, text, language))
                k += 1

        load = os.getloadavg()[0]
        cpu_before = self.meter.cpu_seconds()
        await asyncio.gather(*(resident(i) for i in range(run.concurrency)))
        elapsed = now() - t0
        cpu_after = self.meter.cpu_seconds()
        cpu = {role: cpu_after[role] - cpu_before.get(role, 0.0) for role in cpu_after}
        if run.system in ("ours", "burst"):
            await self.queue_idle(timeout=5 if run.system == "burst" else 30)
        result = summarize(run, records, t0, cpu, elapsed, self.twilio.unexpected - unexpected_before)
        result["load_at_start"] = round(load, 2)
        run.result = result
        ack, e2e = result["ack_ms"], result["e2e_ms"]
        log(f"  {run.label}: {result['throughput']} msg/s"
            + (f", ack p50/p99 {ack['p50']}/{ack['p99']} ms" if ack["p50"] is not None else "")
            + (f", e2e p50/p99 {e2e['p50']}/{e2e['p99']} ms" if e2e["p50"] is not None else "")
            + (f", errors {result['errors']}" if result["errors"] else ""))
        return result

    # -- the whole benchmark -------------------------------------------------------------

    def plan(self) -> list[Run]:
        """Idle runs, then the loaded runs in rounds (1 Rasa server, then 2), each round in a
        rotated order, then the burst. Each run has numbers of its own (+1 <area> ...)."""
        c, s, w = self.cfg.concurrency, self.cfg.seconds, self.cfg.warmup
        runs: list[Run] = []
        if self.cfg.idle_seconds:
            i = self.cfg.idle_seconds
            runs += [Run("ours-idle", "ours, 1 resident", "ours", 1, 1, 1.0, i, 301),
                     Run("rest-idle", "direct Rasa REST, 1 resident", "rest", 1, 1, 1.0, i, 302),
                     Run("twilio-idle", "built-in Twilio channel, 1 resident", "twilio", 1, 1, 1.0, i, 303)]
        labels = {"ours": "ours", "rest": "direct Rasa REST", "twilio": "built-in Twilio channel"}

        def rounds(systems: list[str], replicas: int, count: int) -> list[Run]:
            out = []
            for n in range(count):
                for system in systems[n % len(systems):] + systems[:n % len(systems)]:
                    area = 400 + 20 * n + 3 * (replicas - 1) + list(labels).index(system) + 1
                    out.append(Run(f"{system}-{replicas}", labels[system], system, replicas, c, w, s, area, n + 1))
            return out

        runs += rounds(["ours", "rest", "twilio"], 1, self.cfg.rounds)
        if self.cfg.replicas == 2:
            runs += rounds(["ours", "rest"], 2, max(1, self.cfg.rounds - 1))
        if self.cfg.burst_seconds:
            runs.append(Run("burst", "our webhook, acks only (burst)", "burst", self.cfg.replicas, c, 2.0,
                            self.cfg.burst_seconds, 390))
        return runs

    async def main(self) -> dict[str, Any]:
        cfg = self.cfg
        # Ctrl-C, kill, a closed terminal: cancel this task, so that every `finally` runs.
        task = asyncio.current_task()
        assert task is not None
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            asyncio.get_running_loop().add_signal_handler(sig, task.cancel)
        load_before = os.getloadavg()
        log(f"load average before: {load_before[0]:.2f} (1 min); {psutil.cpu_count()} cores")
        self.redis = LocalRedis(workdir=OUT_DIR / "redis").start()
        self.processes.running["redis"] = self.redis.process  # type: ignore[assignment]
        self.processes.role["redis"] = "redis"
        self.setup_database()
        log(f"database: {self.database_kind}; Redis on port {self.redis.port}")
        await self.twilio.start()
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=1.0)  # < gunicorn's 2 s keep-alive
        self.session = aiohttp.ClientSession(connector=connector)
        try:
            started = now()
            self.start_servers()
            workers = self.start_workers(1)
            self.meter.start()
            log(f"starting {cfg.replicas} Rasa server(s), the action server, the webhook and "
                f"{len(workers)} RQ workers (Rasa needs 30-60 s to load)")
            await self.wait_http(f"http://127.0.0.1:{self.action_port}/health", ["actions"], 120)
            await self.wait_http(f"{self.public_base}/healthz", ["webhook"], 60)
            await self.wait_workers(workers)
            for index, base in enumerate(self.rasa_urls):
                await self.wait_http(f"{base}/webhooks/rest/", [f"rasa-{index + 1}"], 300)
            startup = now() - started
            log(f"everything up in {startup:.0f} s")
            await self.calibrate()
            await self.smoke()

            runs, serving = self.plan(), 1  # serving: the Rasa servers our workers are split between
            self.place(serving)
            for run in runs:
                if run.replicas > serving:
                    serving = run.replicas
                    self.place(serving)
                    self.processes.stop(workers)
                    workers = self.start_workers(serving)
                    await self.wait_workers(workers)
                    log(f"our workers now split between 2 Rasa replicas ({len(workers)} RQ workers)")
                log(f"run {run.key} round {run.round}: {run.label}, {run.replicas} Rasa, {run.concurrency} "
                    f"resident(s), {run.warmup:.0f} s warm-up + {run.seconds:.0f} s measured")
                await self.run(run)
                self.processes.check_alive()
            self.meter.sample()
            return self.report(runs, load_before, startup)
        finally:
            await self.session.close()
            await self.twilio.stop()

    def cleanup(self) -> None:
        self.meter.close()
        self.processes.running.pop("redis", None)
        self.processes.stop_all()
        if self.redis:
            self.redis.stop()
        self.drop_database()

    # -- report ----------------------------------------------------------------------------

    def machine(self, load_before: tuple[float, float, float]) -> dict[str, Any]:
        cpu_model = platform.processor() or "unknown"
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass

        def version(package: str) -> str:
            try:
                return metadata.version(package)
            except metadata.PackageNotFoundError:
                return "-"

        redis_version = "-"
        try:
            redis_version = subprocess.run([self.redis_binary(), "--version"], capture_output=True, text=True,
                                           timeout=5).stdout.split()[2].removeprefix("v=")
        except Exception:
            pass
        return {
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "cpu": cpu_model, "cores": psutil.cpu_count(), "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "os": platform.platform(terse=True), "python": platform.python_version(), "rasa": version("rasa"),
            "rasa_sdk": version("rasa-sdk"), "gunicorn": version("gunicorn"), "rq": version("rq"),
            "redis": redis_version, "database": self.database_kind,
            "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in os.getloadavg()],
        }

    @staticmethod
    def redis_binary() -> str:
        from scripts.localredis import redis_server_binary

        return redis_server_binary()

    def report(self, runs: list[Run], load_before: tuple[float, float, float], startup: float) -> dict[str, Any]:
        cfg = self.cfg
        groups = {key: aggregate([r for r in runs if r.key == key]) for key in dict.fromkeys(r.key for r in runs)}
        by_round = {(r.key, r.round): r.result for r in runs}

        def get(key: str, *path: str) -> Any:
            return dig(groups.get(key), path)

        def paired(ours: str, other: str, *path: str) -> dict[str, Any]:
            """ours / other, round by round (a round's runs follow one another, so they share the
            shared machine's mood of the moment), and the median of those ratios."""
            values = []
            for (key, n), result in sorted(by_round.items(), key=lambda item: item[0][1]):
                if key == ours and (ours_value := dig(result, path)) is not None:
                    values.append(ratio(ours_value, dig(by_round.get((other, n)), path)))
            values = [v for v in values if v is not None]
            return {"median": round(statistics.median(values), 2) if values else None, "rounds": values}

        rss = {label: round(mb) for label, mb in sorted(self.meter.rss_max.items(), key=lambda item: -item[1])}
        webhook_rss = max((mb for label, mb in rss.items() if label.startswith("webhook")), default=None)
        checks = []

        def check(name: str, value: float | None, target: float, higher_is_better: bool, unit: str = "",
                  rounds: list[float] | None = None, out_of_reach: str | None = None) -> None:
            """`out_of_reach`: why no system could pass on this machine; a miss then reads n/a."""
            passed = None if value is None else (value >= target if higher_is_better else value <= target)
            if passed is False and out_of_reach:
                passed = None
            checks.append({"target": name, "value": value, "rounds": rounds or [], "pass": passed,
                           "limit": f"{'>=' if higher_is_better else '<='} {target:g}{unit}",
                           "note": out_of_reach if passed is None else None})

        e2e_rest = paired("ours-1", "rest-1", "e2e_ms", "p50")
        e2e_builtin = paired("ours-1", "twilio-1", "e2e_ms", "p50")
        tp_rest = paired("ours-1", "rest-1", "throughput")
        tp_builtin = paired("ours-1", "twilio-1", "throughput")
        tp_rest_2 = paired("ours-2", "rest-2", "throughput")
        check(f"ack p99 at {cfg.concurrency} concurrent residents (all rounds pooled)", get("ours-1", "ack_ms", "p99"),
              TARGETS["ack_p99_ms"], False, " ms", [dig(by_round.get(("ours-1", n)), ("ack_ms", "p99"))
                                                   for n in range(1, cfg.rounds + 1)])
        check("e2e p50, ours / direct Rasa REST", e2e_rest["median"], TARGETS["e2e_p50_vs_rest"], False,
              rounds=e2e_rest["rounds"])
        check("throughput, ours / direct Rasa REST", tp_rest["median"], TARGETS["throughput_vs_rest"], True,
              rounds=tp_rest["rounds"])
        check("throughput, ours / built-in Twilio channel", tp_builtin["median"], TARGETS["throughput_vs_builtin"],
              True, rounds=tp_builtin["rounds"])
        check("webhook RSS, largest process", webhook_rss, TARGETS["webhook_rss_mb"], False, " MB")
        if "ours-2" in groups:
            # The target rate, at the CPU per answer measured with 2 Rasa servers, in cores: more
            # than the machine has means Rasa and the bridge cannot both get it, whatever the bridge.
            rate = TARGETS["throughput_vs_rest"] * (get("rest-2", "throughput") or 0.0)
            per_answer = groups["ours-2"]["cpu_ms_per_answer"]
            needed = rate * sum(per_answer.get(role, 0.0) for role in SERVICE_ROLES) / 1000
            rasa = rate * sum(per_answer.get(role, 0.0) for role in ("rasa", "actions")) / 1000
            cores = psutil.cpu_count() or 1
            check("throughput with 2 Rasa replicas, ours / direct Rasa REST", tp_rest_2["median"],
                  TARGETS["throughput_vs_rest"], True, rounds=tp_rest_2["rounds"],
                  out_of_reach=(f"out of reach on {cores} cores: {rate:.1f} answers/s take {needed:.1f} cores "
                                f"({rasa:.1f} of them Rasa's)") if needed > cores else None)
        ratios = {
            "e2e_p50_ours_vs_rest": e2e_rest["median"],
            "e2e_p50_ours_vs_builtin": e2e_builtin["median"],
            "throughput_ours_vs_rest": tp_rest["median"],
            "throughput_ours_vs_builtin": tp_builtin["median"],
            "idle_added_ms_ours_vs_rest": difference(get("ours-idle", "e2e_ms", "p50"),
                                                     get("rest-idle", "e2e_ms", "p50")),
            "loaded_added_ms_ours_vs_rest": difference(get("ours-1", "e2e_ms", "p50"), get("rest-1", "e2e_ms", "p50")),
            "throughput_2_vs_1_replicas_ours": ratio(get("ours-2", "throughput"), get("ours-1", "throughput")),
            "throughput_2_vs_1_replicas_rest": ratio(get("rest-2", "throughput"), get("rest-1", "throughput")),
        }
        return {
            "machine": self.machine(load_before),
            "settings": {"concurrency": cfg.concurrency, "rounds": cfg.rounds, "seconds": cfg.seconds,
                         "warmup": cfg.warmup, "idle_seconds": cfg.idle_seconds, "burst_seconds": cfg.burst_seconds,
                         "rasa_replicas": cfg.replicas, "rq_workers_per_rasa": cfg.workers_per_rasa,
                         "webhook": f"gunicorn, {cfg.webhook_workers} workers x 16 threads",
                         "timeout_s": cfg.timeout, "messages_in_mix": len(self.mix),
                         "cpus": placement_text(self.rasa_core()),
                         "numbers_per_resident": NUMBERS_PER_RESIDENT},
            "systems": list(groups.values()), "runs": [r.result for r in runs], "ratios": ratios,
            "cpu_ms_per_answer": {key: groups[key]["cpu_ms_per_answer"] for key in ("ours-1", "rest-1", "ours-2")
                                  if key in groups},
            "targets": checks, "rss_mb": rss,
            "startup_s": round(startup, 1), "total_s": round(time.monotonic() - self.started, 1),
            "notes": self.notes + [
                "The built-in Twilio channel's outbound calls go through the `twilio` library inside the Rasa "
                "process; scripts/bench/rasa_twilio.py (a wrapper around Rasa's CLI) points that library's API "
                "base URL at this benchmark's local Twilio server, so they are real HTTP calls captured there "
                "(no interception in this process).",
                "The same wrapper drops, for the built-in channel only, the custom `{\"nlu\": ...}` message our "
                "`action_validate_slot_mappings` adds to every turn: unpatched, Rasa's channel passes it to "
                "`messages.create(nlu=...)`, which raises TypeError and loses the answer.",
                "All runs share the same Rasa server(s): REST (ours and direct) and the built-in Twilio "
                "channel are both enabled in scripts/bench/credentials.yml.",
                "2 Rasa replicas, ours: RASA_URL takes one URL, so the RQ workers are split between the "
                "replicas (half of them each; a worker takes the next queued conversation, so load spreads "
                "by itself). Direct REST: round robin per request in the load generator.",
            ],
        }


# -- output ------------------------------------------------------------------------------------

def _ms(stats: dict[str, Any]) -> str:
    values = [stats.get(k) for k in ("p50", "p95", "p99")]
    if all(v is None for v in values):
        return "-"
    return " / ".join("-" if v is None else (f"{v:.0f}" if v >= 10 else f"{v:.1f}") for v in values)


def _errors(run: dict[str, Any]) -> str:
    problems = [f"{count} {name}" for name, count in sorted(run["errors"].items())]
    if run["unexpected_outbound"] and run["system"] != "burst":  # burst: nobody waits for the replies
        problems.append(f"{run['unexpected_outbound']} unexpected SMS")
    return ", ".join(problems) or "0"


def table_rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for system in report["systems"]:
        throughput = f"{system['throughput']:.1f}" + (" acks/s" if system["system"] == "burst" else "")
        if system["rounds"] > 1:
            throughput += " (" + ", ".join(f"{t:.1f}" for t in system["throughput_rounds"]) + ")"
        rows.append([system["label"], str(system["replicas"]), str(system["concurrency"]), _ms(system["ack_ms"]),
                     _ms(system["e2e_ms"]), throughput, f"{system['answered']}/{system['sent']}", _errors(system)])
    return rows


HEADER = ["system", "Rasa", "residents", "ack p50/p95/p99 ms", "end-to-end p50/p95/p99 ms",
          "msg/s, median (each round)", "answered/sent", "errors, lost"]


def target_value(check: dict[str, Any]) -> str:
    value = "-" if check["value"] is None else str(check["value"])
    rounds = [r for r in check["rounds"] if r is not None]
    value += f" (rounds: {', '.join(map(str, rounds))})" if len(rounds) > 1 else ""
    return value + (f"; {check['note']}" if check.get("note") else "")


def cpu_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    roles = ["rasa", "actions", "webhook", "rq worker", "postgres", "redis", "harness"]
    header = ["run"] + [f"{r} %" for r in roles] + ["others %", "machine %", "load"]
    rows = []
    for run in report["runs"]:
        cpu = run["cpu_pct"]
        others = cpu.get("machine busy", 0) - sum(cpu.get(role, 0) for role in roles)
        rows.append([f"{run['key']}" + (f" #{run['round']}" if run["round"] > 1 else "")]
                    + [f"{cpu.get(role, 0):.0f}" for role in roles]
                    + [f"{max(others, 0):.0f}", f"{cpu.get('machine busy', 0):.0f}",
                       f"{run.get('load_at_start', 0):.1f}"])
    return header, rows


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def md_table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def render_text(report: dict[str, Any]) -> str:
    m = report["machine"]
    parts = [f"\nmake bench - {m['date']} - {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM; "
             f"Python {m['python']}, Rasa {m['rasa']}; {m['database']}; load {m['load_before'][0]} before, "
             f"{m['load_after'][0]} after; CPUs: {report['settings']['cpus']}",
             "", text_table(HEADER, table_rows(report)), "", "Targets:"]
    for c in report["targets"]:
        parts.append(f"  [{verdict(c['pass'])}] {c['target']}: {target_value(c)} (target {c['limit']})")
    r = report["ratios"]
    parts += ["", "Ratios: e2e p50 ours/direct REST {0}, ours/built-in {1}; throughput ours/direct REST {2}, "
              "ours/built-in {3}; e2e p50 added to direct REST: {4} ms with 1 resident, {5} ms with {6}; "
              "2 vs 1 Rasa replicas, throughput: {7}".format(
                  r["e2e_p50_ours_vs_rest"], r["e2e_p50_ours_vs_builtin"], r["throughput_ours_vs_rest"],
                  r["throughput_ours_vs_builtin"], r["idle_added_ms_ours_vs_rest"], r["loaded_added_ms_ours_vs_rest"],
                  report["settings"]["concurrency"], replicas_text(r)),
              "", cpu_per_answer_text(report),
              "", "Memory (largest RSS seen, MB): " + ", ".join(f"{k} {v}" for k, v in report["rss_mb"].items())]
    header, rows = cpu_rows(report)
    parts += ["", "CPU per run (% of one core; postgres: the whole server; others: the rest of the machine's "
              "busy time, i.e. work not ours; load: 1-min load average at the run's start, ours included):",
              text_table(header, rows), ""]
    parts += [f"note: {n}" for n in report["notes"]]
    parts.append(f"\nstart-up {report['startup_s']:.0f} s, whole run {report['total_s']:.0f} s; "
                 f"results in var/bench/latest.json and docs/bench.md")
    return "\n".join(parts)


def cpu_per_answer_text(report: dict[str, Any]) -> str:
    """What one answer costs in CPU: Rasa's share and the bridge's (everything of ours around it)."""
    per = report["cpu_ms_per_answer"]
    ours, rest = per.get("ours-1"), per.get("rest-1")
    if not ours or not rest:
        return ""
    bridge = sum(ours.get(role, 0.0) for role in BRIDGE)
    parts = ", ".join(f"{label} {ours.get(role, 0.0):.1f}" for role, label in BRIDGE.items())
    rasa = ours.get("rasa", 0.0) + ours.get("actions", 0.0)
    share = f"; the bridge needs {bridge / rasa:.2f} core per busy Rasa core" if rasa else ""
    return (f"CPU per answer with 1 Rasa server (ms of one core): Rasa and its action server "
            f"{rasa:.1f} ms (direct REST: {rest.get('rasa', 0.0) + rest.get('actions', 0.0):.1f} ms); "
            f"the bridge {bridge:.1f} ms ({parts}){share}")


def replicas_text(r: dict[str, Any]) -> str:
    if r["throughput_2_vs_1_replicas_ours"] is None:
        return "not run (BENCH_REPLICAS=1)"
    return f"x{r['throughput_2_vs_1_replicas_ours']} (ours), x{r['throughput_2_vs_1_replicas_rest']} (direct REST)"


def placement_text(rasa_core: int | None) -> str:
    if rasa_core is None:
        return "not pinned: every process on every CPU"
    others = ", ".join(str(c) for c in range(psutil.cpu_count() or 1) if c != rasa_core)
    return (f"with 1 Rasa server: that server alone on CPU {rasa_core}, every other process of the benchmark "
            f"on CPU {others}")


def rounds_text(settings: dict[str, Any]) -> str:
    text = f"{settings['rounds']} rounds of the loaded runs with 1 Rasa server"
    return text + (f", {max(1, settings['rounds'] - 1)} with 2" if settings["rasa_replicas"] == 2 else "")


def render_markdown(report: dict[str, Any]) -> str:
    m, s = report["machine"], report["settings"]
    servers = "1 and 2 Rasa servers" if s["rasa_replicas"] == 2 else "1 Rasa server"
    header, rows = cpu_rows(report)
    targets = md_table(["target", "value", "limit", ""],
                       [[c["target"], target_value(c), c["limit"],
                         f"**{verdict(c['pass'])}**"] for c in report["targets"]])
    r = report["ratios"]
    return f"""# Benchmark: the SMS path against Rasa alone and Rasa's built-in Twilio channel

Generated by `make bench` (`scripts/bench.py`); the raw figures are in `var/bench/latest.json`.
Re-run it and commit this file when the figures change.

## Machine and run

- {m['date']}; {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM; {m['os']}
- Python {m['python']}, Rasa {m['rasa']}, rasa-sdk {m['rasa_sdk']}, gunicorn {m['gunicorn']}, RQ {m['rq']},
  Redis {m['redis']}; {m['database']}
- Load average (1/5/15 min) before the run {' / '.join(map(str, m['load_before']))}, after
  {' / '.join(map(str, m['load_after']))} (other work on the machine shares its {m['cores']} cores)
- {s['concurrency']} simulated residents, closed loop, {s['warmup']:.0f} s warm-up + {s['seconds']:.0f} s measured
  per run; {rounds_text(s)}, interleaved; {s['messages_in_mix']} messages in the mix; runs with {servers},
  {s['rq_workers_per_rasa']} RQ workers per Rasa server, webhook: {s['webhook']}; CPUs: {s['cpus']};
  the whole run took {report['total_s']:.0f} s (start-up {report['startup_s']:.0f} s)

## Results

{md_table(HEADER, table_rows(report))}

Each loaded run was repeated in rounds, the systems interleaved in a rotating order (ours,
REST, built-in; then REST, built-in, ours; ...), so that a busy minute on the shared machine
falls on all of them. Throughput is the median of the rounds (each round in brackets);
latency percentiles pool every round's messages; a ratio is the median of the rounds' own
ratios (ours / the other system in the same round), each round's ratio in brackets.

"ack" is our webhook's answer to Twilio (signature checked, deduplicated, stored, queued);
"end-to-end" runs from the resident's message reaching the webhook to the reply reaching the
(local) Twilio Messages API. Direct Rasa REST is the floor (a Rasa turn and nothing else); the
built-in Twilio channel is the peer (it answers Twilio only after the whole turn, outbound
call included, and checks no signature and no duplicates). With a closed loop at saturation,
end-to-end latency is mostly queueing: residents / throughput.

{targets}

Ratios: end-to-end p50 ours / direct REST **{r['e2e_p50_ours_vs_rest']}**, ours / built-in
**{r['e2e_p50_ours_vs_builtin']}**; throughput ours / direct REST **{r['throughput_ours_vs_rest']}**,
ours / built-in **{r['throughput_ours_vs_builtin']}**. The bridge adds **{r['idle_added_ms_ours_vs_rest']} ms**
(p50) to a Rasa turn for one resident alone, **{r['loaded_added_ms_ours_vs_rest']} ms** with {s['concurrency']}
residents. 2 vs 1 Rasa replicas, throughput: {replicas_text(r)}.

{cpu_per_answer_text(report)}.

Memory, largest RSS seen per process (MB): {', '.join(f"{k} {v}" for k, v in report['rss_mb'].items())}.

CPU per run (% of one core). "postgres" is the whole PostgreSQL server; "others" is the rest of
the machine's busy time, work that is not the benchmark's (other jobs on a shared machine: a
large figure means a disturbed run); "load" is the 1-minute load average when the run started
(the benchmark's own processes included):

{md_table(header, rows)}

## How it is measured

- Everything runs on this machine, on 127.0.0.1: a private Redis, PostgreSQL (a fresh `bench`
  database; SQLite if PostgreSQL is not reachable), Rasa server(s) with the Redis tracker and
  lock stores, the action server, the webhook under gunicorn, RQ workers (`python -m bot.worker`).
  In the benchmark's own process: the simulated residents (aiohttp) and a local server that
  speaks the Twilio Messages API (it receives every outbound SMS, ours and the built-in
  channel's).
- Residents are closed-loop: each sends a message, waits for its answer, then sends the next,
  from the next of its own {s['numbers_per_resident']} numbers (so no number hits the per-number rate limit).
  The mix is FAQ questions, greetings and thanks in English and Spanish, kept only if Rasa
  answers each with one plain text message (checked at start), so an answer is one SMS everywhere.
- "1 resident" runs measure the latency a message sees with no queueing; the burst run sends
  signed webhooks back to back without waiting for answers (the webhook's own capacity,
  while the workers and Rasa work through the backlog).
- A message is lost if its answer has not arrived {s['timeout_s']:.0f} s after it was sent.

## What was adapted, and how

""" + "\n".join(f"- {n}" for n in report["notes"]) + "\n"


def main(argv: list[str] | None = None) -> int:
    cfg = Config.parse(argv)
    if not MODEL.exists():
        print("no trained model: run `make model` first (make bench does)", file=sys.stderr)
        return 2
    try:
        import uvloop  # type: ignore[import-not-found]

        uvloop.install()
    except ImportError:
        pass

    def terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)  # until the event loop takes the signals over
    signal.signal(signal.SIGHUP, terminate)
    bench = Bench(cfg)
    try:
        report = asyncio.run(bench.main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        log("interrupted: stopping everything")
        return 130
    except Exception as exc:
        log(f"failed: {type(exc).__name__}: {exc}")
        return 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # a second Ctrl-C must not cut the clean-up short
            signal.signal(sig, signal.SIG_IGN)
        bench.cleanup()
    (OUT_DIR / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    DOC.write_text(render_markdown(report))
    print(render_text(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

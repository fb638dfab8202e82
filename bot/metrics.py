"""Prometheus metrics: events are counted in Redis; any webhook replica serves them at /metrics.

Why Redis rather than prometheus_client's in-process Counter objects: the events happen in
many processes on any number of hosts: inbound messages in gunicorn workers; Rasa turns,
replies and safety flags in RQ workers; notices in the sweeper. A counter kept per process
would need every one of them scraped, and would restart from zero with each process.
One Redis hash adds them all up: one scrape of any webhook replica sees the totals of the
whole deployment. With several webhook replicas, scrape one (or the load balancer's internal
address); when scraping each, aggregate with max(), not sum(), since each reports the totals.
No PROMETHEUS_MULTIPROC_DIR is needed. A Redis restart (or flush) starts the counters from
zero again, which rate() and increase() treat as a counter reset.

prometheus_client only renders the text format. Gauges (queue depth, reports waiting,
handoffs waiting) are computed when scraped. Labels carry no personal data: channel, outcome,
safety kind, Twilio status and error code. Recording never raises and never slows a resident
down more than one Redis round trip; with no Redis installed (`record_to`), it does nothing.
"""
from __future__ import annotations

import json
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Sequence

import redis
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from sqlalchemy import func, select

from bot.storage.models import OutboxState, ReportOutbox

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
KEY = "assistant:metrics"
PREFIX = "assistant_"


@dataclass(frozen=True)
class CounterSpec:
    name: str  # without the "_total" the text format adds
    help: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class HistogramSpec:
    name: str
    help: str
    labels: tuple[str, ...]
    buckets: tuple[float, ...]


INBOUND = CounterSpec(
    "inbound_messages", "Inbound messages by channel and outcome (accepted, duplicate, rate_limited).",
    ("channel", "outcome"))
OUTBOUND = CounterSpec(
    "outbound_messages", "Outbound messages by channel and outcome: sent, recorded (development outbox), "
    "delivered (web chat), blocked (opted out), failed (given up); retrying counts each deferred attempt.",
    ("channel", "outcome"))
SAFETY_FLAGS = CounterSpec(
    "safety_flags", "Messages the safety screen flagged, by event (emergency, crisis, possible_emergency, possible_crisis).",
    ("kind",))
DELIVERY_FAILURES = CounterSpec(
    "delivery_failures", "Twilio status callbacks reporting a message failed or undelivered, by Twilio error code.",
    ("status", "error_code"))
TURN_SECONDS = HistogramSpec(
    "rasa_turn_seconds", "Duration of one Rasa turn (REST channel call) by outcome (answered, failed).",
    ("outcome",), (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))

COUNTERS = (INBOUND, OUTBOUND, SAFETY_FLAGS, DELIVERY_FAILURES)
HISTOGRAMS = (TURN_SECONDS,)


def handoffs_waiting(services: "Services") -> int:
    """Conversations waiting for a person (handed off, not claimed yet)."""
    return services.handoff_store.waiting_count()

# -- recording --------------------------------------------------------------------------------

_sink: redis.Redis | None = None


def record_to(client: redis.Redis | None) -> None:
    """Where this process counts: the shared Redis. The webhook, worker and sweeper call it at
    start; None (the default) records nothing, as in tests of single classes."""
    global _sink
    _sink = client


def _field(spec_name: str, values: Sequence[str], part: str = "") -> str:
    return json.dumps([spec_name, list(values), part])


def _write(fields: Sequence[tuple[str, int | float]]) -> None:
    """Counts are ints (HINCRBY), sums floats (HINCRBYFLOAT): a field keeps one kind."""
    client = _sink
    if client is None:
        return
    try:
        pipe = client.pipeline(transaction=False)
        for name, amount in fields:
            if isinstance(amount, int):
                pipe.hincrby(KEY, name, int(amount))
            else:
                pipe.hincrbyfloat(KEY, name, amount)
        pipe.execute()
    except (redis.RedisError, OSError) as exc:  # metrics must never cost a resident a reply
        log.debug("metric not recorded: %s", type(exc).__name__)


def _count(spec: CounterSpec, *values: str) -> None:
    _write([(_field(spec.name, values), 1)])


def inbound(channel: str, outcome: str) -> None:
    _count(INBOUND, channel, outcome)


def outbound(channel: str, outcome: str) -> None:
    _count(OUTBOUND, channel, outcome)


def safety_flag(kind: str) -> None:
    _count(SAFETY_FLAGS, kind)


def delivery_failure(status: str, error_code: str | None) -> None:
    """`error_code` as Twilio sends it; only short numbers become a label (bounded, no free text)."""
    code = (error_code or "").strip()
    label = code if code.isdigit() and len(code) <= 6 else ("none" if not code else "other")
    _count(DELIVERY_FAILURES, status, label)


def observe(spec: HistogramSpec, seconds: float, *values: str) -> None:
    bucket = next((i for i, bound in enumerate(spec.buckets) if seconds <= bound), len(spec.buckets))
    _write([(_field(spec.name, values, f"b{bucket}"), 1), (_field(spec.name, values, "sum"), float(seconds))])


@contextmanager
def rasa_turn() -> Iterator[None]:
    """Times the Rasa call inside it: outcome "answered", or "failed" when it raises."""
    started = time.monotonic()
    outcome = "failed"
    try:
        yield
        outcome = "answered"
    finally:
        observe(TURN_SECONDS, time.monotonic() - started, outcome)


# -- exposition -------------------------------------------------------------------------------

def _stored(client: redis.Redis) -> dict[str, dict[tuple[tuple[str, ...], str], float]]:
    """The Redis hash as {metric name: {(label values, part): value}}."""
    found: dict[str, dict[tuple[tuple[str, ...], str], float]] = {}
    for raw_field, raw_value in client.hgetall(KEY).items():
        try:
            name, values, part = json.loads(raw_field)
            found.setdefault(name, {})[(tuple(str(v) for v in values), str(part))] = float(raw_value)
        except (ValueError, TypeError):
            continue  # not ours: never fail a scrape over one field
    return found


def _counter(spec: CounterSpec, stored: dict[tuple[tuple[str, ...], str], float]) -> Metric:
    family = CounterMetricFamily(PREFIX + spec.name, spec.help, labels=spec.labels)
    for (values, _), value in sorted(stored.items()):
        if len(values) == len(spec.labels):
            family.add_metric(values, value)
    return family


def _histogram(spec: HistogramSpec, stored: dict[tuple[tuple[str, ...], str], float]) -> Metric:
    family = HistogramMetricFamily(PREFIX + spec.name, spec.help, labels=spec.labels)
    for values in sorted({values for values, _ in stored if len(values) == len(spec.labels)}):
        cumulative, buckets = 0.0, []
        for index, bound in enumerate((*spec.buckets, float("inf"))):
            cumulative += stored.get((values, f"b{index}"), 0.0)
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
        family.add_metric(values, buckets, sum_value=stored.get((values, "sum"), 0.0))
    return family


def _reports_waiting(services: "Services") -> int:
    """Filed reports not yet taken by the department's system (the forwarding outbox)."""
    with services.db.session() as session:
        return int(session.execute(select(func.count()).select_from(ReportOutbox).where(
            ReportOutbox.state.in_((OutboxState.PENDING, OutboxState.SENDING)))).scalar_one())


class _Scrape:
    """What one scrape reads: the Redis counters and the gauges of this moment. A source that
    is down is reported (assistant_scrape_source_up 0) instead of failing the whole scrape."""

    def __init__(self, services: "Services") -> None:
        self._s = services

    def collect(self) -> Iterator[Metric]:
        s = self._s
        up = GaugeMetricFamily(PREFIX + "scrape_source_up", "1 when this scrape could read the source.",
                               labels=("source",))
        try:
            stored = _stored(s.redis)
            queue = s.queue
            depth = GaugeMetricFamily(PREFIX + "queue_depth", "Jobs waiting in the RQ queue.", labels=("queue",))
            depth.add_metric((queue.name,), queue.count)
            scheduled = GaugeMetricFamily(PREFIX + "queue_scheduled_jobs",
                                          "Jobs scheduled for later (retries after a failed turn or send).",
                                          labels=("queue",))
            scheduled.add_metric((queue.name,), queue.scheduled_job_registry.get_job_count(cleanup=False))
            failed = GaugeMetricFamily(PREFIX + "queue_failed_jobs", "Jobs that failed for good (RQ's registry).",
                                       labels=("queue",))
            failed.add_metric((queue.name,), queue.failed_job_registry.get_job_count(cleanup=False))
        except (redis.RedisError, OSError) as exc:
            log.warning("metrics: Redis unavailable (%s)", type(exc).__name__)
            up.add_metric(("redis",), 0)
        else:
            up.add_metric(("redis",), 1)
            for spec in COUNTERS:
                yield _counter(spec, stored.get(spec.name, {}))
            for hspec in HISTOGRAMS:
                yield _histogram(hspec, stored.get(hspec.name, {}))
            yield from (depth, scheduled, failed)
        try:
            reports = _reports_waiting(s)
            handoffs = handoffs_waiting(s)
        except Exception as exc:  # the database is down or slow: say so, keep the scrape
            log.warning("metrics: database unavailable (%s)", type(exc).__name__)
            up.add_metric(("database",), 0)
        else:
            up.add_metric(("database",), 1)
            yield GaugeMetricFamily(PREFIX + "reports_waiting",
                                    "Filed reports waiting to be forwarded to the department's system.",
                                    value=reports)
            yield GaugeMetricFamily(PREFIX + "handoffs_waiting", "Conversations waiting for a person.",
                                    value=handoffs)
        yield up


def exposition(services: "Services") -> bytes:
    """The Prometheus text format of every metric, read now."""
    return generate_latest(_Scrape(services))  # type: ignore[arg-type]

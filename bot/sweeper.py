"""Recovery sweeper process: `python -m bot.sweeper`.

Every SWEEP_INTERVAL seconds, one replica (a Redis lock elects it) moves due delayed retries
to the queue when no worker runs RQ's scheduler, re-enqueues stored inbound messages that no
worker finished and replies whose retry job was lost (this is what makes "nothing is lost" true
after a worker crash or a Redis restart), then sends the meeting notices that are due
(reminders, waitlist promotions, changes: bot/meetings/notices.py, each exactly once),
forwards filed reports to the department's system (bot/reports/forwarding.py), polls their
status every REPORT_POLL_INTERVAL seconds, texts residents whose reports were closed, and once
an hour applies the transcript retention period (bot/staff/retention.py).
"""
from __future__ import annotations

import logging
import signal
import threading

from bot import metrics
from bot.jobs import recover_outbound, recover_pending
from bot.logs import configure_logging
from bot.services import Services, get_services

log = logging.getLogger("bot.sweeper")


POLL_KEY = "assistant:report-poll"
RETENTION_KEY = "assistant:retention"
RETENTION_EVERY = 3600  # seconds between retention runs, across all replicas


def enqueue_due_jobs(services: Services) -> bool:
    """Move the delayed jobs that are due (a retried turn, a retried Twilio send) to the queue,
    when no worker's RQ scheduler holds the queue's scheduler lock.

    RQ runs its scheduler inside one worker. When that worker is killed, the lock lapses after
    about a minute, but the other workers only try to take it over in their maintenance, every
    10 minutes (and a worker started meanwhile finds it still held): for that long no delayed
    retry ran (found by tests/test_faults.py, killing the worker that ran the scheduler). Taking
    the lock only when it is free, for one pass, is what `rq worker --burst --with-scheduler` does,
    so a job is never moved twice; while a worker's scheduler is alive this does nothing."""
    from rq.scheduler import RQScheduler

    scheduler = RQScheduler([services.queue], connection=services.redis)
    if not scheduler.acquire_locks():
        return False
    try:
        scheduler.enqueue_scheduled_jobs()
    finally:
        scheduler.release_locks()
    return True


def sweep(services: Services) -> None:
    """One round. Each step claims its rows in the database, so two rounds never send twice."""
    enqueue_due_jobs(services)
    recover_pending(services)
    recover_outbound(services)
    services.notice_sweep.run()
    if services.report_system.forwards:
        services.report_forwarder.run_once()
        # The department's server is polled at its own pace, once across all replicas.
        if services.redis.set(POLL_KEY, "1", nx=True, ex=max(1, int(services.settings.report_poll_seconds))):
            services.report_status_poll.run_once()
    services.closed_report_notices.run_once()
    if services.redis.set(RETENTION_KEY, "1", nx=True, ex=RETENTION_EVERY):
        services.retention.run()


def main() -> None:
    services = get_services()
    configure_logging(services.settings)
    metrics.record_to(services.redis)
    interval = services.settings.sweep_interval_seconds
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set():
        try:
            lock = services.redis.lock("assistant:lock:sweeper", timeout=max(interval, 5.0))
            if lock.acquire(blocking=False):
                sweep(services)
        except Exception as exc:  # Redis or the database down: try again next round
            log.warning("sweep failed: %s", type(exc).__name__)
        stop.wait(interval)


if __name__ == "__main__":
    main()

"""Worker process: `python -m bot.worker` runs an RQ worker (with its scheduler, for
delayed retries) on the inbound queue, after re-enqueuing anything left unfinished.

Jobs run in this process, one at a time (`rq.SimpleWorker`), not in a process forked per job
(`rq.Worker`'s default). A turn is mostly waiting for Rasa; forking for it cost more CPU than
the turn's own work, and every job then opened new database, Redis and Rasa connections
(`make bench`: the worker, not Rasa, limited throughput). Here the domain's responses, the
department profile and the connection pools are loaded once and reused by every job. For
more turns at once, run more worker processes. What a work horse gave and this keeps: a job
over its timeout is stopped (RQ raises in the job, SIGALRM) and a crash or a kill -9 loses
only that job's turn, which the sweeper re-enqueues (`recover_pending`,
tests/test_faults.py); what it gave and this does not, isolation from a job that leaks
memory, is the process supervisor's to restart.

`--burst` handles what is queued now, then exits (draining a queue by hand, tests).

RQ's worker loop quits on an error it does not expect, such as Redis going away while a job is
running (found by tests/test_faults.py, restarting Redis under load: both workers exited, and
under `make run` honcho then stops every process). This process does not: it waits for Redis,
re-enqueues what was left unfinished and starts a new RQ worker. It stops on SIGTERM / SIGINT
(RQ's warm shutdown: the running job is finished first).
"""
from __future__ import annotations

import argparse
import logging
import signal
import threading

import redis
from rq import SimpleWorker

from bot import metrics
from bot.jobs import recover_pending
from bot.logs import configure_logging
from bot.services import Services, get_services

log = logging.getLogger("bot.worker")


def _recover(services: Services) -> None:
    try:
        recover_pending(services)
    except Exception as exc:  # a dead dependency must not stop the worker from starting
        log.warning("recovery failed: %s", type(exc).__name__)


def _wait_for_redis(services: Services) -> bool:
    """Ping Redis with backoff until it answers (True) or the process is told to stop (False)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    delay = 0.5
    while not stop.is_set():
        try:
            services.redis.ping()
            return True
        except redis.RedisError:
            stop.wait(delay)
            delay = min(delay * 2, 10.0)
    return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="handle the queued jobs, then exit")
    args = parser.parse_args(argv)
    services = get_services()
    configure_logging(services.settings)
    if services.settings.problems():
        raise SystemExit("; ".join(services.settings.problems()))
    metrics.record_to(services.redis)
    services.warm()  # the first resident does not wait for domain.yml to be parsed
    _recover(services)
    while True:
        # default_result_ttl=0: nothing reads a job's return value, so RQ does not store it
        # (fewer Redis writes per job); a failed job is still kept in the failed registry.
        worker = SimpleWorker([services.queue], connection=services.redis, default_result_ttl=0)
        try:
            worker.work(with_scheduler=True, burst=args.burst)
        except redis.RedisError as exc:  # RQ's own teardown could not reach Redis either
            log.warning("worker stopped on a Redis error: %s", type(exc).__name__)
        # RQ keeps no public flag for "a stop signal came"; the date of the request is set by it
        if args.burst or getattr(worker, "_shutdown_requested_date", None) is not None:
            return
        log.warning("worker loop ended unexpectedly; starting again once Redis answers")
        if not _wait_for_redis(services):
            return
        _recover(services)


if __name__ == "__main__":
    main()

"""Worker process: `python -m bot.worker` runs an RQ worker (with its scheduler, for
delayed retries) on the inbound queue, after re-enqueuing anything left unfinished.

`--burst` handles what is queued now, then exits (draining a queue by hand, tests).
"""
from __future__ import annotations

import argparse
import logging

from rq import Worker

from bot import metrics
from bot.jobs import recover_pending
from bot.logs import configure_logging
from bot.services import get_services


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="handle the queued jobs, then exit")
    args = parser.parse_args(argv)
    services = get_services()
    configure_logging(services.settings)
    if services.settings.problems():
        raise SystemExit("; ".join(services.settings.problems()))
    # rq.Worker forks a process per job: counters must live in Redis, not here (bot/metrics.py).
    metrics.record_to(services.redis)
    try:
        recover_pending(services)
    except Exception as exc:  # a dead dependency must not stop the worker from starting
        logging.getLogger("bot.worker").warning("startup recovery failed: %s", type(exc).__name__)
    worker = Worker([services.queue], connection=services.redis)
    worker.work(with_scheduler=True, burst=args.burst)


if __name__ == "__main__":
    main()

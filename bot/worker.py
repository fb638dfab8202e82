"""Worker process: `python -m bot.worker` runs an RQ worker (with its scheduler, for
delayed retries) on the inbound queue, after re-enqueuing anything left unfinished."""
from __future__ import annotations

import logging

from rq import Worker

from bot.jobs import recover_pending
from bot.services import get_services


def main() -> None:
    services = get_services()
    logging.basicConfig(level=services.settings.log_level)
    if services.settings.problems():
        raise SystemExit("; ".join(services.settings.problems()))
    try:
        recover_pending(services)
    except Exception as exc:  # a dead dependency must not stop the worker from starting
        logging.getLogger("bot.worker").warning("startup recovery failed: %s", type(exc).__name__)
    worker = Worker([services.queue], connection=services.redis)
    worker.work(with_scheduler=True)


if __name__ == "__main__":
    main()

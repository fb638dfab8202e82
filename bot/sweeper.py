"""Recovery sweeper process: `python -m bot.sweeper`.

Every SWEEP_INTERVAL seconds, one replica (a Redis lock elects it) re-enqueues stored
inbound messages that no worker finished. This is what makes "nothing is lost" true
after a worker crash or a Redis restart.
"""
from __future__ import annotations

import logging
import os
import signal
import threading

from bot.jobs import recover_pending
from bot.services import get_services

log = logging.getLogger("bot.sweeper")


def main() -> None:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))
    interval = float(os.environ.get("SWEEP_INTERVAL", "30"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    services = get_services()
    while not stop.is_set():
        try:
            lock = services.redis.lock("assistant:lock:sweeper", timeout=max(interval, 5.0))
            if lock.acquire(blocking=False):
                recover_pending(services)
        except Exception as exc:  # Redis or the database down: try again next round
            log.warning("sweep failed: %s", type(exc).__name__)
        stop.wait(interval)


if __name__ == "__main__":
    main()

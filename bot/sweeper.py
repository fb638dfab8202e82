"""Recovery sweeper process: `python -m bot.sweeper`.

Every SWEEP_INTERVAL seconds, one replica (a Redis lock elects it) re-enqueues stored
inbound messages that no worker finished (this is what makes "nothing is lost" true
after a worker crash or a Redis restart), then sends the meeting notices that are due
(reminders, waitlist promotions, changes: bot/meetings/notices.py, each exactly once).
"""
from __future__ import annotations

import logging
import signal
import threading

from bot.jobs import recover_pending
from bot.services import get_services

log = logging.getLogger("bot.sweeper")


def main() -> None:
    services = get_services()
    logging.basicConfig(level=services.settings.log_level)
    interval = services.settings.sweep_interval_seconds
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set():
        try:
            lock = services.redis.lock("assistant:lock:sweeper", timeout=max(interval, 5.0))
            if lock.acquire(blocking=False):
                recover_pending(services)
                services.notice_sweep.run()
        except Exception as exc:  # Redis or the database down: try again next round
            log.warning("sweep failed: %s", type(exc).__name__)
        stop.wait(interval)


if __name__ == "__main__":
    main()

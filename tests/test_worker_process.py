"""The worker (`python -m bot.worker`) runs its jobs in its own process, one after another, so
they share the domain's responses and the connection pools it loaded (no process forked per
job: `make bench` showed forking cost more than the turn). A job over its timeout is stopped,
and the worker goes on with the next one."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Callable

from rq.job import JobStatus

from bot.services import Services
from bot.settings import ROOT


def test_jobs_run_in_the_worker_process_and_a_job_over_its_timeout_is_stopped(
        make_services: Callable[..., Services]) -> None:
    services = make_services()
    queue = services.queue
    first = queue.enqueue(os.getpid, result_ttl=60)  # the worker keeps no results by default
    too_long = queue.enqueue(time.sleep, 30, job_timeout=1)
    second = queue.enqueue(os.getpid, result_ttl=60)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
           "DATABASE_URL": services.settings.database_url, "REDIS_URL": services.settings.redis_url,
           "LOG_LEVEL": "WARNING", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    worker = subprocess.Popen([sys.executable, "-m", "bot.worker", "--burst"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, output
    assert first.return_value(refresh=True) == worker.pid
    assert second.return_value(refresh=True) == worker.pid
    assert too_long.get_status(refresh=True) == JobStatus.FAILED
    assert "JobTimeoutException" in (too_long.latest_result().exc_string or "")

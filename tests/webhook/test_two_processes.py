"""Twilio may deliver the same webhook twice, to two different webhook processes."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from sqlalchemy import func, select

from bot.services import Services
from bot.settings import ROOT
from bot.storage.models import Message
from scripts.localredis import free_port
from tests.webhook.conftest import PUBLIC, TOKEN, sign, twilio_params


def _start_webhook(services: Services, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": services.settings.database_url,
           "REDIS_URL": services.settings.redis_url, "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
           "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM_NUMBER": "+15035550100", "PUBLIC_BASE_URL": PUBLIC,
           "SENDER_ID_KEY": services.settings.sender_id_key, "RASA_TOKEN": "two-processes-test-token",
           "LOG_LEVEL": "WARNING"}
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--workers", "1", "--threads", "4", "--bind",
         f"127.0.0.1:{port}", "webhook.app:create_app()"],
        cwd=ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT)


def _ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # readiness probe of a booting server
        assert process.poll() is None, log.read_text()
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return
        except requests.RequestException:
            time.sleep(0.1)
    raise AssertionError(log.read_text())


def test_duplicate_delivery_to_two_webhook_processes_gives_one_message_and_one_job(make_services, tmp_path) -> None:  # type: ignore[no-untyped-def]
    services = make_services()
    ports = [free_port(), free_port()]
    processes = [_start_webhook(services, port, tmp_path / f"webhook{port}.log") for port in ports]
    try:
        for port, process in zip(ports, processes):
            _ready(port, process, tmp_path / f"webhook{port}.log")
        deliveries = [twilio_params(f"message {i}", sender=f"+1503555{i:04d}") for i in range(10)]

        def deliver(job: tuple[int, dict[str, str]]) -> int:
            port, params = job
            signature = sign(PUBLIC + "/sms/inbound", params)
            return requests.post(f"http://127.0.0.1:{port}/sms/inbound", data=params,
                                 headers={"X-Twilio-Signature": signature}, timeout=10).status_code

        # every message is delivered twice to each process, all at once
        jobs = [(port, params) for params in deliveries for port in ports for _ in range(2)]
        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(deliver, jobs))
        assert statuses == [200] * len(jobs)
        with services.db.session() as session:
            stored = session.execute(select(func.count()).select_from(Message)).scalar_one()
        assert stored == len(deliveries)
        assert services.queue.count == len(deliveries)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)

"""A trained Rasa server and its action server as child processes, for the tests' live stack
and `make eval`'s pipeline runs: started with an environment, ready when both answer, stopped
together."""
from __future__ import annotations

import subprocess
import sys
import time
from datetime import timezone
from pathlib import Path
from typing import Mapping
from zoneinfo import ZoneInfo

import requests

from scripts.localredis import free_port

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "assistant.tar.gz"


def wait_http(url: str, process: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # readiness probe of a booting server
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {timeout}s:\n{log.read_text()[-3000:]}")


def demo_database(directory: Path) -> str:
    """A migrated SQLite database holding the demo meetings calendar (as `make run` has)."""
    from bot.clock import SystemClock
    from bot.department import DepartmentProfile
    from bot.meetings.catalog import CatalogService
    from bot.meetings.demo_calendar import demo_calendar
    from bot.storage.database import Database
    from bot.storage.migrate import upgrade

    url = f"sqlite:///{directory / 'assistant.db'}"
    upgrade(url)
    profile = DepartmentProfile.load(ROOT / "department.yml")
    clock = SystemClock()
    today = clock.now().replace(tzinfo=timezone.utc).astimezone(ZoneInfo(profile.timezone)).date()
    db = Database(url)
    try:
        CatalogService(db, clock, profile.timezone, profile.languages).import_ics(
            demo_calendar(today, profile.timezone))
    finally:
        db.dispose()
    return url


class RasaServers:
    """`rasa run` (REST channel, HTTP API behind `token`) and `rasa run actions` on free ports.
    `env` must carry what the actions read (DATABASE_URL, SENDER_ID_KEY...) and where Rasa's
    tracker store is (RASA_REDIS_*)."""

    def __init__(self, env: Mapping[str, str], logs: Path, token: str, model: Path = MODEL) -> None:
        self.rasa_port, self.action_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.rasa_port}"
        self.action_url = f"http://127.0.0.1:{self.action_port}"
        self._env = {**env, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT),
                     "ACTION_SERVER_URL": f"{self.action_url}/webhook"}
        self._logs = logs
        self._token = token
        self._model = model
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> "RasaServers":
        if not self._model.exists():
            raise RuntimeError("no trained model: run `make model`")
        self._logs.mkdir(parents=True, exist_ok=True)
        bin_dir = Path(sys.executable).parent
        action_log, rasa_log = self._logs / "actions.log", self._logs / "rasa.log"
        actions = subprocess.Popen(
            [str(bin_dir / "rasa"), "run", "actions", "--actions", "actions", "--port", str(self.action_port)],
            cwd=ROOT, env=self._env, stdout=open(action_log, "wb"), stderr=subprocess.STDOUT)
        server = subprocess.Popen(
            [str(bin_dir / "rasa"), "run", "--model", str(self._model), "--interface", "127.0.0.1",
             "--port", str(self.rasa_port), "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
             "--enable-api", "--auth-token", self._token],
            cwd=ROOT, env=self._env, stdout=open(rasa_log, "wb"), stderr=subprocess.STDOUT)
        self.processes = [actions, server]
        try:
            wait_http(f"{self.action_url}/health", actions, 120, action_log)
            wait_http(f"{self.url}/webhooks/rest/", server, 300, rasa_log)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in reversed(self.processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

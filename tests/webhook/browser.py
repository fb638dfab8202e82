"""What the browser tests share: Debian's Chromium driven by Playwright, axe-core, and a served
stack (gunicorn webhook + `python -m bot.worker` subprocesses). `make browser-deps` installs
Chromium and axe-core (`make test` does)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping

import requests
from playwright.sync_api import Browser, Page, sync_playwright

from bot.settings import ROOT
from scripts.localredis import free_port

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# Never inherited by a served stack: it runs without Twilio (development phone on) unless told.
TWILIO_VARIABLES = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER", "TWILIO_MESSAGING_SERVICE_SID",
                    "PUBLIC_BASE_URL", "TRUST_FORWARDED_HEADERS", "HANDOFF_ONCALL_NUMBER")


@contextmanager
def chromium() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make browser-deps`"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        try:
            yield browser
        finally:
            browser.close()


def axe_serious(page: Page) -> list[str]:
    """Serious and critical WCAG 2.1 A/AA (and best-practice) violations on the page."""
    page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated by the driver: not subject to the page's CSP
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}));
    }""")
    return [f"{v['id']} ({v['impact']}): {v['nodes']}" for v in result if v["impact"] in ("serious", "critical")]


def _ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # readiness probe of a booting server
        assert process.poll() is None, log.read_text()
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            time.sleep(0.1)
    raise AssertionError(log.read_text())


@contextmanager
def served(tmp_path: Path, settings: Mapping[str, str]) -> Iterator[str]:
    """A gunicorn webhook and a worker with these environment settings; yields the webhook's URL.
    The caller's PYTHONPATH comes after the repository's."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path, "LOG_LEVEL": "WARNING", "TURN_RETRY_DELAYS": "0",
           "RASA_TELEMETRY_ENABLED": "false", **settings}
    for name in TWILIO_VARIABLES:
        if name not in settings:
            env.pop(name, None)
    port = free_port()
    bin_dir = Path(sys.executable).parent
    webhook_log, worker_log = tmp_path / "webhook.log", tmp_path / "worker.log"
    processes = [
        subprocess.Popen([str(bin_dir / "gunicorn"), "--workers", "1", "--threads", "8", "--graceful-timeout", "2",
                          "--bind", f"127.0.0.1:{port}", "webhook.app:create_app()"],
                         cwd=ROOT, env=env, stdout=open(webhook_log, "wb"), stderr=subprocess.STDOUT),
        subprocess.Popen([sys.executable, "-m", "bot.worker"], cwd=ROOT, env=env,
                         stdout=open(worker_log, "wb"), stderr=subprocess.STDOUT),
    ]
    try:
        _ready(f"http://127.0.0.1:{port}/healthz", processes[0], webhook_log)
        yield f"http://127.0.0.1:{port}"
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()

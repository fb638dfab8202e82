"""The chat widget in a real browser: Debian's Chromium, headless, driven by Playwright, on the demo
page served by a real webhook (gunicorn) with a real worker process, Redis and SQLite, and axe-core
(from npm) checking accessibility with the panel open.

Answers come from the real trained Rasa server and action server (the session's `rasa_stack`).
Install what it needs with `make browser-deps` (`make test` does)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot.clock import SystemClock
from bot.identity import address_hash
from bot.services import Services
from bot.settings import ROOT, Settings
from bot.storage.migrate import upgrade
from bot.webchat import CHANNEL, session_address
from scripts.localredis import free_port
from tests.conftest import RasaStack

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SENDER_KEY = "browser-test-key"
EMERGENCY = "someone is breaking into my neighbor's house right now"


class Stack:
    def __init__(self, url: str, services: Services) -> None:
        self.url = url
        self.services = services


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


@pytest.fixture
def stack(tmp_path: Path, redis_url: str, rasa_stack: RasaStack) -> Iterator[Stack]:
    database_url = f"sqlite:///{tmp_path / 'assistant.db'}"
    upgrade(database_url)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url, "REDIS_URL": redis_url,
           "RASA_URL": rasa_stack.url, "SENDER_ID_KEY": SENDER_KEY, "LOG_LEVEL": "WARNING",
           "TURN_RETRY_DELAYS": "0", "RASA_TELEMETRY_ENABLED": "false"}
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER", "PUBLIC_BASE_URL"):
        env.pop(name, None)
    bin_dir = Path(sys.executable).parent
    webhook_log, worker_log = tmp_path / "webhook.log", tmp_path / "worker.log"
    processes = [
        subprocess.Popen([str(bin_dir / "gunicorn"), "--workers", "1", "--threads", "8", "--graceful-timeout", "2",
                          "--bind", f"127.0.0.1:{port}", "webhook.app:create_app()"],
                         cwd=ROOT, env=env, stdout=open(webhook_log, "wb"), stderr=subprocess.STDOUT),
        subprocess.Popen([sys.executable, "-m", "bot.worker"], cwd=ROOT, env=env,
                         stdout=open(worker_log, "wb"), stderr=subprocess.STDOUT),
    ]
    services = Services(Settings(database_url=database_url, redis_url=redis_url, sender_id_key=SENDER_KEY),
                        SystemClock())
    try:
        _ready(f"http://127.0.0.1:{port}/healthz", processes[0], webhook_log)
        yield Stack(f"http://127.0.0.1:{port}", services)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        services.db.dispose()
        services.redis.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make browser-deps`"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


def _watch(page: Page) -> list[str]:
    """Console errors and refused resources (a CSP violation shows up here)."""
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def _say(page: Page, text: str) -> None:
    box = page.get_by_label("Your message")
    box.fill(text)
    box.press("Enter")


def _assistant(page: Page, text: str) -> Any:
    return page.locator(".rc-msg.rc-out .rc-text", has_text=text)


def _axe_serious(page: Page) -> list[str]:
    page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated by the driver: not subject to the page's CSP
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}));
    }""")
    return [f"{v['id']} ({v['impact']}): {v['nodes']}" for v in result if v["impact"] in ("serious", "critical")]


def test_a_resident_chats_on_the_demo_page(stack: Stack, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    problems = _watch(page)
    page.goto(f"{stack.url}/demo")

    launcher = page.get_by_role("button", name="Chat with us")
    launcher.click()
    panel = page.get_by_role("dialog", name="Ask the police department")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("link", name="Emergency? Call 911")).to_be_visible()
    expect(page.get_by_label("Your message")).to_be_focused()

    # a greeting, and markup typed by the resident stays text
    _say(page, "hello <b>there</b>")
    expect(page.locator(".rc-msg.rc-in .rc-text", has_text="hello <b>there</b>")).to_be_visible()
    expect(_assistant(page, "non-emergency report")).to_be_visible(timeout=30_000)
    assert page.locator(".rc-root b").count() == 0

    # a program question in English, answered by the trained model with the department's link
    _say(page, "how do i join neighborhood watch")
    expect(_assistant(page, "portalderpd.example/watch")).to_be_visible(timeout=30_000)

    # buttons as buttons; a click sends the choice; links are links
    _say(page, "what can you do")
    choice = page.get_by_role("group", name="Choose an option").get_by_role("button", name="Community meetings")
    expect(choice).to_be_visible(timeout=30_000)
    choice.click()
    expect(_assistant(page, "upcoming community meetings")).to_be_visible(timeout=30_000)
    link = page.get_by_role("link", name="portalderpd.example/meetings")
    assert link.get_attribute("href") == "https://portalderpd.example/meetings"
    expect(page.locator(".rc-quick")).to_be_hidden()

    # a reload keeps the conversation (the token is in localStorage) and the open panel
    token = page.evaluate("() => Object.entries(localStorage).find(([k]) => k.endsWith(':token'))[1]")
    page.reload()
    expect(page.locator(".rc-msg.rc-in .rc-text", has_text="hello <b>there</b>")).to_be_visible(timeout=15_000)
    expect(page.locator(".rc-msg.rc-in", has_text="Community meetings")).to_be_visible()

    # a staff reply through the outbound path arrives without a reload (long polling)
    conversation = stack.services.conversations.find(
        CHANNEL, address_hash(SENDER_KEY, CHANNEL, session_address(token)))
    assert conversation is not None
    stack.services.outbound.send(conversation, "Hi, this is Officer Diaz. How can I help?", author="staff")
    staff = page.locator(".rc-msg.rc-out", has_text="Officer Diaz")
    expect(staff).to_be_visible(timeout=30_000)
    expect(staff.locator(".rc-who")).to_have_text("Staff")

    # an emergency gets the 911 answer
    _say(page, EMERGENCY)
    # (every variation of the emergency answer says this, and nothing else the assistant sends does)
    expect(_assistant(page, "This number is not watched for emergencies")).to_be_visible(timeout=30_000)
    assert stack.services.conversations.get(conversation.id).flagged

    # accessibility with the panel open
    assert _axe_serious(page) == []

    # keyboard: Escape closes and gives focus back to the chat button
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(launcher).to_be_focused()
    page.keyboard.press("Enter")
    expect(panel).to_be_visible()
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []
    context.close()


def test_spanish_page_and_a_320_pixel_screen(stack: Stack, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.goto(f"{stack.url}/demo?lang=es")
    page.get_by_role("button", name="Chatee con nosotros").click()
    panel = page.get_by_role("dialog", name="Pregunte al departamento de policía")
    expect(panel.get_by_role("link", name="¿Emergencia? Llame al 911")).to_be_visible()
    box = page.get_by_label("Su mensaje")
    box.fill("hola, cómo me uno a la vigilancia vecinal")
    box.press("Enter")
    expect(page.locator(".rc-msg.rc-out .rc-text", has_text="portalderpd.example/watch")).to_be_visible(
        timeout=30_000)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    panel_box = panel.bounding_box()
    assert width <= 320 and panel_box is not None and panel_box["x"] >= 0 and panel_box["width"] <= 320
    assert _axe_serious(page) == []
    context.close()

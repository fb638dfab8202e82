"""The chat widget in a real browser: Debian's Chromium, headless, driven by Playwright, on the demo
page served by a real webhook (gunicorn) with a real worker process, Redis and SQLite, and axe-core
(from npm) checking accessibility with the panel open.

Answers come from the real trained Rasa server and action server (the session's `rasa_stack`).
Install what it needs with `make browser-deps` (`make test` does)."""
from __future__ import annotations

import struct
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from sqlalchemy import select

from bot.clock import SystemClock
from bot.identity import address_hash
from bot.services import Services
from bot.settings import Settings
from bot.storage.migrate import upgrade
from bot.storage.models import Conversation, Message
from bot.webchat import CHANNEL, session_address
from tests.conftest import RasaStack
from tests.webhook.browser import axe_serious, chromium, served

SENDER_KEY = "browser-test-key"
EMERGENCY = "someone is breaking into my neighbor's house right now"
IMAGE_HOST = "https://img.portalderpd.example"
IMAGE_URL = f"{IMAGE_HOST}/maps/station.png?v=2"
IMAGE_WIDTH = 1200


class Stack:
    def __init__(self, url: str, services: Services) -> None:
        self.url = url
        self.services = services


@pytest.fixture
def stack(tmp_path: Path, redis_url: str, rasa_stack: RasaStack) -> Iterator[Stack]:
    database_url = f"sqlite:///{tmp_path / 'assistant.db'}"
    upgrade(database_url)
    services = Services(Settings(database_url=database_url, redis_url=redis_url, sender_id_key=SENDER_KEY),
                        SystemClock())
    try:
        with served(tmp_path, {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "RASA_URL": rasa_stack.url,
                               "SENDER_ID_KEY": SENDER_KEY}) as url:
            yield Stack(url, services)
    finally:
        services.db.dispose()
        services.redis.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as opened:
        yield opened


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


def _png(width: int, height: int) -> bytes:
    """A solid-colour PNG, made here so the test needs no image file."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x0b\x5c\xad" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _serve_images(context: BrowserContext) -> None:
    """The image host of the department, answered inside the browser (no network in tests). The
    page's Content-Security-Policy is still applied: a refused image never reaches this route."""
    image = _png(IMAGE_WIDTH, 300)
    context.route(f"{IMAGE_HOST}/**", lambda route: route.fulfill(status=200, content_type="image/png", body=image))


def _conversation_of(page: Page, stack: Stack) -> Conversation:
    token = _token(page)
    assert token is not None
    conversation = stack.services.conversations.find(CHANNEL, address_hash(SENDER_KEY, CHANNEL, session_address(token)))
    assert conversation is not None
    return conversation


def _token(page: Page) -> str | None:
    return page.evaluate("() => (Object.entries(localStorage).find(([k]) => k.endsWith(':token')) || [])[1] || null")


def _age(stack: Stack, conversation_id: int, days: float) -> None:
    """Move a conversation and its messages into the past, as if nobody had written for `days`:
    the webhook runs in another process on the system clock, so time is moved on the data."""
    with stack.services.db.session() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        conversation.created_at -= timedelta(days=days)
        conversation.updated_at -= timedelta(days=days)
        for message in session.execute(select(Message).where(Message.conversation_id == conversation_id)).scalars():
            message.created_at -= timedelta(days=days)
            message.updated_at -= timedelta(days=days)


def _usable(page: Page, target: Locator) -> None:
    """On screen in full, not covered by anything, and ready for a click."""
    expect(target).to_be_visible()
    expect(target).to_be_in_viewport(ratio=1)
    target.click(trial=True, timeout=5_000)  # Playwright's actionability checks: visible, stable, hit by a click


def _fits(page: Page, panel: Locator, emergency: Locator, box: Locator, send: Locator) -> None:
    """No sideways scrolling of the page; the panel and what a resident needs inside the viewport."""
    size = page.evaluate(
        "() => ({scroll: document.scrollingElement.scrollWidth, width: innerWidth, height: innerHeight})")
    assert size["scroll"] <= size["width"], size
    frame = panel.bounding_box()
    assert frame is not None
    assert frame["x"] >= 0 and frame["y"] >= 0, frame
    assert frame["x"] + frame["width"] <= size["width"], (frame, size)
    assert frame["y"] + frame["height"] <= size["height"], (frame, size)
    for target in (emergency, box, send):
        _usable(page, target)


def test_a_resident_chats_on_the_demo_page(stack: Stack, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    _serve_images(context)
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

    # links are links
    link = page.get_by_role("link", name="portalderpd.example/watch")
    assert link.get_attribute("href") == "https://portalderpd.example/watch"

    # buttons as buttons; a click sends the choice and gets an answer; the old choices go away
    _say(page, "what can you do")
    choice = page.get_by_role("group", name="Choose an option").get_by_role("button", name="Community meetings")
    expect(choice).to_be_visible(timeout=30_000)
    answers = page.locator(".rc-msg.rc-out[data-id]")
    before = answers.count()
    choice.click()
    expect(page.locator(".rc-msg.rc-in", has_text="Community meetings")).to_be_visible(timeout=15_000)
    expect(answers.nth(before)).to_be_visible(timeout=30_000)
    expect(choice).to_have_count(0)

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

    # an image line shows the image; other addresses stay links; markup stays text
    stack.services.outbound.send(conversation, "\n".join([
        "Here is a map of the station:", IMAGE_URL, "Directions: https://portalderpd.example/visit",
        "https://portalderpd.example/forms/report.pdf", "<img src=x onerror=alert(1)>",
        "ftp://img.portalderpd.example/map.png"]), author="staff")
    pictured = page.locator(".rc-msg.rc-out", has_text="Here is a map of the station")
    picture = pictured.get_by_role("img", name="Image sent by the police department")
    expect(picture).to_be_visible(timeout=30_000)
    assert picture.get_attribute("src") == IMAGE_URL
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=picture.element_handle())
    assert picture.evaluate("img => img.naturalWidth") == IMAGE_WIDTH  # loaded: the page's CSP allows it
    assert picture.evaluate("img => getComputedStyle(img).maxWidth") == "100%"
    assert picture.bounding_box()["width"] <= pictured.bounding_box()["width"]  # type: ignore[index]
    assert pictured.get_by_role("link", name="https://portalderpd.example/visit").get_attribute("href") == \
        "https://portalderpd.example/visit"
    assert pictured.get_by_role("link", name="https://portalderpd.example/forms/report.pdf").count() == 1
    expect(pictured.locator(".rc-text")).to_contain_text("<img src=x onerror=alert(1)>")
    expect(pictured.locator(".rc-text")).to_contain_text("ftp://img.portalderpd.example/map.png")
    assert page.locator(".rc-root img").count() == 1
    assert pictured.get_by_role("link", name=IMAGE_URL).count() == 0

    # the same address typed by a resident stays a link (images only come from the department)
    _say(page, IMAGE_URL)
    typed = page.locator(".rc-msg.rc-in", has_text="station.png")
    expect(typed.get_by_role("link", name=IMAGE_URL)).to_be_visible()
    assert page.locator(".rc-root img").count() == 1

    # an emergency gets the 911 answer
    _say(page, EMERGENCY)
    # (every variation of the emergency answer says this, and nothing else the assistant sends does)
    expect(_assistant(page, "This number is not watched for emergencies")).to_be_visible(timeout=30_000)
    assert stack.services.conversations.get(conversation.id).flagged

    # accessibility with the panel open
    assert axe_serious(page) == []

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
    _serve_images(context)
    page = context.new_page()
    problems = _watch(page)
    page.goto(f"{stack.url}/demo?lang=es")
    page.get_by_role("button", name="Chatee con nosotros").click()
    panel = page.get_by_role("dialog", name="Pregunte al departamento de policía")
    emergency = panel.get_by_role("link", name="¿Emergencia? Llame al 911")
    box, send = page.get_by_label("Su mensaje"), panel.get_by_role("button", name="Enviar")
    _fits(page, panel, emergency, box, send)
    box.fill("hola, cómo me uno a la vigilancia vecinal")
    send.click()
    expect(page.locator(".rc-msg.rc-out .rc-text", has_text="portalderpd.example/watch")).to_be_visible(
        timeout=30_000)
    _fits(page, panel, emergency, box, send)

    # a wide image, described in Spanish, never wider than its bubble or the screen
    stack.services.outbound.send(_conversation_of(page, stack), f"El mapa de la estación:\n{IMAGE_URL}",
                                 author="staff")
    picture = panel.get_by_role("img", name="Imagen enviada por el departamento de policía")
    expect(picture).to_be_visible(timeout=30_000)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=picture.element_handle())
    bubble = page.locator(".rc-msg.rc-out", has_text="El mapa de la estación").bounding_box()
    image = picture.bounding_box()
    assert bubble is not None and image is not None
    assert image["x"] >= bubble["x"] and image["x"] + image["width"] <= bubble["x"] + bubble["width"]
    _fits(page, panel, emergency, box, send)
    assert axe_serious(page) == []
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []
    context.close()


def test_200_percent_zoom(stack: Stack, browser: Browser) -> None:
    """200% zoom of a 1280x720 window: 640x360 CSS pixels, two device pixels each."""
    context = browser.new_context(viewport={"width": 640, "height": 360}, device_scale_factor=2)
    page = context.new_page()
    page.goto(f"{stack.url}/demo")
    assert page.evaluate("() => devicePixelRatio") == 2
    page.get_by_role("button", name="Chat with us").click()
    panel = page.get_by_role("dialog", name="Ask the police department")
    emergency = panel.get_by_role("link", name="Emergency? Call 911")
    box, send = page.get_by_label("Your message"), panel.get_by_role("button", name="Send")
    _fits(page, panel, emergency, box, send)
    box.fill("how do i join neighborhood watch")
    send.click()
    expect(_assistant(page, "portalderpd.example/watch")).to_be_visible(timeout=30_000)
    _say(page, "what can you do")  # a long answer with a row of buttons
    expect(page.get_by_role("group", name="Choose an option").get_by_role("button").first).to_be_visible(
        timeout=30_000)
    _fits(page, panel, emergency, box, send)
    assert axe_serious(page) == []
    context.close()


def test_an_idle_chat_expires_and_the_widget_starts_a_new_one(stack: Stack, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    problems = _watch(page)
    page.goto(f"{stack.url}/demo")
    page.get_by_role("button", name="Chat with us").click()
    _say(page, "how do i join neighborhood watch")
    expect(_assistant(page, "portalderpd.example/watch")).to_be_visible(timeout=30_000)
    first = _conversation_of(page, stack)
    old_token = _token(page)

    # a week and a day without a message, with the panel open: the next message starts a new chat
    _age(stack, first.id, days=8)
    _say(page, "what is the non emergency number")
    note = page.locator(".rc-log .rc-note")
    expect(note).to_have_text("Your earlier chat expired. What you write now starts a new one.", timeout=15_000)
    expect(page.locator(".rc-msg.rc-in", has_text="what is the non emergency number")).to_be_visible(timeout=15_000)
    expect(page.locator(".rc-msg.rc-in", has_text="neighborhood watch")).to_have_count(0)  # the old chat left
    # the new chat's answer, well before the old chat's long poll (20 s) would have ended by itself
    expect(page.locator(".rc-msg.rc-out[data-id]").first).to_be_visible(timeout=10_000)
    second = _conversation_of(page, stack)
    assert second.id != first.id and _token(page) not in (None, old_token)
    refused = requests.get(f"{stack.url}/chat/api/messages", headers={"Authorization": f"Bearer {old_token}"},
                           timeout=10)
    assert refused.status_code == 401 and refused.json()["status"] == 401

    # expired while nobody was looking: a reload says so, in the page's language, and forgets the token
    _age(stack, second.id, days=8)
    page.goto(f"{stack.url}/demo?lang=es")
    expect(page.locator(".rc-log .rc-note")).to_have_text(
        "Su chat anterior caducó. Lo que escriba ahora empieza uno nuevo.", timeout=15_000)
    assert _token(page) is None
    expect(page.locator(".rc-msg[data-id]")).to_have_count(0)
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []
    context.close()

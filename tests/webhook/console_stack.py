"""A real stack for the staff console's browser tests (tests/webhook/test_console_browser.py):
gunicorn (webhook, development phone on: no Twilio) and `python -m bot.worker`, on the real
Redis and the session's real Rasa server and action server, plus the browser-side helpers the
tests share: the development phone as a resident uses it, and the console's sign-in.

The webhook shares the action server's database and sender key (`rasa_stack`): a request for a
person is opened by `action_request_human` in the action server, which finds the conversation
by its Rasa sender id in that database. So staff accounts get a fresh name per test, and
residents a fresh number (Rasa's trackers and the conversations outlive a test).
"""
from __future__ import annotations

import random
import uuid
from pathlib import Path
from typing import Iterator

from playwright.sync_api import BrowserContext, ConsoleMessage, Locator, Page, expect

from bot.clock import SystemClock
from bot.identity import address_hash, mask_phone
from bot.services import Services
from bot.settings import Settings
from bot.storage.models import Conversation, Message
from tests.conftest import RasaStack
from tests.webhook.browser import served

SENDER_KEY = "test-key"  # the action server's (tests/conftest.py, rasa_stack)
LOCKOUT_FAILURES = 3
PASSWORD = "correct horse battery staple"
EMERGENCY = "someone is breaking into my house right now"
ANSWER = 30_000  # ms: a real Rasa turn, through the worker
_numbers: set[str] = set()
_random = random.SystemRandom()


class Stack:
    def __init__(self, url: str, services: Services) -> None:
        self.url = url
        self.services = services

    def account(self, role: str = "staff", prefix: str = "officer") -> str:
        """A new staff account (the database outlives the test): its username."""
        username = f"{prefix}-{uuid.uuid4().hex[:6]}"
        self.services.staff_accounts.create(username, PASSWORD, role)
        return username

    def conversation(self, number: str) -> Conversation:
        found = self.services.conversations.find("sms", address_hash(SENDER_KEY, "sms", number))
        assert found is not None, f"no conversation for {number}"
        return found

    def messages(self, number: str) -> list[Message]:
        return self.services.messages.transcript(self.conversation(number).id)

    def conversation_url(self, number: str) -> str:
        return f"{self.url}/staff/conversations/{self.conversation(number).id}"


def resident_number() -> str:
    """A North American number no other test used, with last four digits of its own."""
    while True:
        number = f"+1971{_random.randrange(10**7):07d}"
        if number[-4:] not in {n[-4:] for n in _numbers}:
            _numbers.add(number)
            return number


def run_stack(tmp_path: Path, redis_url: str, rasa_stack: RasaStack) -> Iterator[Stack]:
    database_url = rasa_stack.database_url  # migrated when the Rasa stack started
    services = Services(Settings(database_url=database_url, redis_url=redis_url, sender_id_key=SENDER_KEY),
                        SystemClock())
    try:
        with served(tmp_path, {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "RASA_URL": rasa_stack.url,
                               "SENDER_ID_KEY": SENDER_KEY, "STAFF_LOCKOUT_FAILURES": str(LOCKOUT_FAILURES),
                               "STAFF_LOCKOUT_MINUTES": "15"}) as url:
            yield Stack(url, services)
    finally:
        services.db.dispose()
        services.redis.close()


# -- in the browser ----------------------------------------------------------------------------

def watch(page: Page) -> list[str]:
    """Console errors and uncaught exceptions (a CSP violation shows up here)."""
    problems: list[str] = []

    def seen(message: ConsoleMessage) -> None:
        # the browser's own favicon request (no page here links one) is not the page's error
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            problems.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", seen)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


class Phone:
    """The development phone (/dev/phone) held by one resident."""

    def __init__(self, context: BrowserContext, stack: Stack, number: str | None = None) -> None:
        self.number = number or resident_number()
        self.masked = mask_phone(self.number)
        self.page = context.new_page()
        self.problems = watch(self.page)
        self.page.goto(f"{stack.url}/dev/phone")
        field = self.page.get_by_label("Your phone number")
        field.fill(self.number)
        field.dispatch_event("change")

    def send(self, text: str) -> None:
        self.page.get_by_label("Message", exact=True).fill(text)
        self.page.get_by_role("button", name="Send").click()
        expect(self.sent(text)).to_be_visible(timeout=15_000)  # stored by the webhook, shown by the poll

    def sent(self, text: str) -> Locator:
        return self.page.locator("#thread li.in", has_text=text)

    def received(self, text: str | None = None) -> Locator:
        return self.page.locator("#thread li.out", has_text=text) if text else self.page.locator("#thread li.out")

    def ask_for_a_person(self) -> None:
        """Either variant (staff in now, or out now) says how to go back to the assistant."""
        self.send("I want to talk to a real person")
        expect(self.received("Text MENU to go back to the assistant")).to_be_visible(timeout=ANSWER)

    def report_emergency(self) -> None:
        """The safety screen answers (no Rasa turn) and puts the conversation first in the queue."""
        self.send(EMERGENCY)
        expect(self.received("This number is not watched for emergencies")).to_be_visible(timeout=ANSWER)


def sign_in_form(page: Page, stack: Stack, username: str, password: str) -> None:
    page.goto(f"{stack.url}/staff/")
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def queue_row(page: Page, phone: Phone) -> Locator:
    return page.locator("tbody tr", has_text=phone.masked)


def csrf_token(page: Page) -> str:
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token
    return token

"""The staff console in a real browser (Debian's Chromium, headless, driven by Playwright), with
residents on the development phone: a real webhook (gunicorn) and worker process, the real
Redis, and the session's real trained Rasa server and action server (`rasa_stack`).

The issue's acceptance (#6): a resident asks for a person, staff see it in the queue, claim it,
reply; the assistant stays quiet while staff have the conversation; resolving gives it back.
Also: sign-in and lockout, the queue's order and live updates with two staff members, exports,
and forged form posts. axe-core checks the queue and conversation pages."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from bot.staff.audit import Action
from bot.storage.models import AuditEntry, HandoffReason, HandoffState, StaffAccount
from tests.conftest import RasaStack
from tests.webhook.browser import axe_serious, chromium
from tests.webhook.console_stack import (
    ANSWER, LOCKOUT_FAILURES, PASSWORD, Phone, Stack, csrf_token, queue_row, run_stack, sign_in_form, watch,
)

REFRESH = 15_000  # ms: staff.js polls the queue state every 4 s
DIAZ = "Officer Diaz here, how can I help?"
RESOLVED = "Our staff member has finished"
LOCKED = "Wrong username or password, or the account is locked for now."


@pytest.fixture
def stack(tmp_path: Path, redis_url: str, rasa_stack: RasaStack) -> Iterator[Stack]:
    yield from run_stack(tmp_path, redis_url, rasa_stack)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as opened:
        yield opened


Contexts = Callable[[], BrowserContext]


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Contexts]:
    """Fresh browser contexts (a resident's phone, each staff member's console), closed after."""
    made: list[BrowserContext] = []

    def make() -> BrowserContext:
        made.append(browser.new_context(viewport={"width": 1280, "height": 900}))
        return made[-1]

    yield make
    for context in made:
        context.close()


def _console(context: BrowserContext, stack: Stack, username: str) -> tuple[Page, list[str]]:
    """A signed-in console page on the queue, and the errors its console will show."""
    page = context.new_page()
    problems = watch(page)
    sign_in_form(page, stack, username, PASSWORD)
    expect(page.locator("main")).to_contain_text("Waiting for a person")  # else: what the page said instead
    return page, problems


def _post(page: Page, url: str, fields: dict[str, str]) -> int:
    """A form post made by the page's own script (same origin, the browser's cookies)."""
    return int(page.evaluate("""async ([url, fields]) => {
        const r = await fetch(url, {method: 'POST', body: new URLSearchParams(fields), redirect: 'manual'});
        return r.type === 'opaqueredirect' ? 303 : r.status;
    }""", [url, fields]))


def _staff_messages(stack: Stack, number: str) -> list[str]:
    return [m.text for m in stack.messages(number) if m.author == "staff"]


def _session_cookies(page: Page) -> list[dict]:
    return [c for c in page.context.cookies() if c["name"] in ("staff_session", "__Host-staff")]


def test_a_resident_asks_for_a_person_and_staff_take_it_from_there(stack: Stack, new_context: Contexts) -> None:
    # the resident asks for a person: the assistant opens a handoff and says how to go back
    phone = Phone(new_context(), stack)
    phone.ask_for_a_person()
    conversation = stack.conversation(phone.number)
    handoff = stack.services.handoff_store.open_for(conversation.id)
    assert handoff is not None and handoff.reason == HandoffReason.REQUESTED and handoff.holds

    # a supervisor signs in and finds it in the queue
    sergeant = stack.account("supervisor", "sergeant")
    console, problems = _console(new_context(), stack, sergeant)
    row = queue_row(console, phone)
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(2)).to_have_text("asked for a person")
    expect(row.locator("td").nth(3)).to_have_text("SMS")
    expect(row.locator("td").nth(5)).to_have_text(phone.masked)
    expect(row.locator("td").nth(6)).to_have_text("nobody yet")
    assert axe_serious(console) == []

    # opens it, claims it, reads the transcript; the number shows its last four digits only
    row.get_by_role("link", name="Open").click()
    expect(console.get_by_role("heading", name=f"Conversation {conversation.id}")).to_be_visible()
    console.get_by_role("button", name="Claim", exact=True).click()
    expect(console.get_by_role("status")).to_have_text("It is yours now.")
    facts = console.locator("dl.facts")
    expect(facts).to_contain_text(phone.masked)
    expect(facts).to_contain_text(f"handled by {sergeant}")
    transcript = console.locator("ol.transcript")
    expect(transcript.locator(".entry.resident", has_text="I want to talk to a real person")).to_have_count(1)
    expect(transcript.locator(".entry.assistant", has_text="Text MENU to go back to the assistant")).to_have_count(1)
    page_text = console.content()
    assert phone.number not in page_text and phone.number[2:] not in page_text

    # replies: the resident's phone shows it
    console.locator("#reply-text").fill(DIAZ)
    console.get_by_role("button", name="Send", exact=True).click()
    expect(console.get_by_role("status")).to_have_text("Reply sent.")
    expect(transcript.locator(".entry.staff", has_text=DIAZ)).to_contain_text(f"Staff ({sergeant})")
    expect(phone.received(DIAZ)).to_be_visible(timeout=15_000)
    answered = phone.received().count()

    # the resident writes again: it reaches the console (its banner says so), not the assistant
    phone.send("there is a car blocking my driveway")
    banner = console.get_by_role("link", name="Something changed (a new message, or the queue). Reload to see it.")
    expect(banner).to_be_visible(timeout=REFRESH)
    banner.click()
    expect(transcript.locator(".entry.resident", has_text="there is a car blocking my driveway")).to_have_count(1)
    # the banner moves once the worker has routed the message to staff: nothing answered it
    last = stack.messages(phone.number)[-1]
    assert (last.direction, last.text, last.intent) == ("in", "there is a car blocking my driveway", None)
    assert axe_serious(console) == []

    # staff resolve: the resident hears the assistant is back, and nothing came in between
    console.get_by_role("button", name="Resolve: back to the assistant").click()
    expect(console.get_by_role("status")).to_have_text("Resolved: the assistant is back.")
    expect(phone.received(RESOLVED)).to_be_visible(timeout=15_000)
    expect(phone.received().nth(answered)).to_contain_text(RESOLVED)
    assert stack.services.handoff_store.open_for(conversation.id) is None

    # and the assistant answers the resident's next question
    phone.send("what are the station hours?")
    expect(phone.received().nth(answered + 1)).to_be_visible(timeout=ANSWER)
    stored = stack.messages(phone.number)
    car = next(i for i, m in enumerate(stored) if m.text == "there is a car blocking my driveway")
    after = [(m.direction, m.author) for m in stored[car + 1:car + 4]]
    assert after == [("out", "system"), ("in", "resident"), ("out", "assistant")], after

    # the queue no longer lists it
    console.goto(f"{stack.url}/staff/")
    expect(console.get_by_role("heading", name="Waiting for a person")).to_be_visible()
    expect(queue_row(console, phone)).to_have_count(0)
    assert problems == [] and phone.problems == []


def test_sign_in_lockout_and_sign_out(stack: Stack, new_context: Contexts) -> None:
    first, second = stack.account(), stack.account()
    page = new_context().new_page()

    # a wrong password: an error, no session
    sign_in_form(page, stack, first, "not the right password")
    expect(page.get_by_role("alert")).to_have_text(LOCKED)
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    assert _session_cookies(page) == []

    # wrong again until the lockout: then the right password is refused too
    for _ in range(LOCKOUT_FAILURES - 1):
        sign_in_form(page, stack, first, "still not the right password")
        expect(page.get_by_role("alert")).to_have_text(LOCKED)
    account = stack.services.staff_accounts.by_username(first)
    assert account is not None and account.locked_until is not None
    sign_in_form(page, stack, first, PASSWORD)
    expect(page.get_by_role("alert")).to_have_text(LOCKED)
    assert _session_cookies(page) == []
    page.goto(f"{stack.url}/staff/")
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()

    # another account is not locked
    sign_in_form(page, stack, second, PASSWORD)
    expect(page.get_by_role("heading", name="Waiting for a person")).to_be_visible()
    expect(page.locator("header .who span")).to_have_text(f"{second} (staff)")
    [cookie] = _session_cookies(page)
    assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"]) == ("staff_session", True, "Strict")

    # signing out ends the session: the console asks for sign-in again, the old token is dead
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    assert _session_cookies(page) == []
    page.goto(f"{stack.url}/staff/")
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    old = requests.get(f"{stack.url}/staff/queue/state", cookies={"staff_session": cookie["value"]},
                       headers={"Accept": "application/json"}, timeout=10)
    assert old.status_code == 401


def test_the_queue_orders_and_updates_itself_for_two_staff(stack: Stack, new_context: Contexts) -> None:
    residents = new_context()
    asking = Phone(residents, stack)
    asking.ask_for_a_person()
    ana, ben = stack.account(prefix="ana"), stack.account(prefix="ben")

    # the queue is open when an emergency comes in: the page shows it without a reload by anyone
    queue, problems = _console(new_context(), stack, ana)
    expect(queue_row(queue, asking)).to_have_count(1)
    loads: list[str] = []
    queue.on("load", lambda p: loads.append(p.url))
    in_danger = Phone(residents, stack)
    in_danger.report_emergency()
    urgent = queue_row(queue, in_danger)
    expect(urgent).to_have_count(1, timeout=REFRESH)
    assert loads, "the queue page should have reloaded itself"
    expect(urgent.locator(".badge")).to_have_text("urgent")
    expect(urgent.locator("td").nth(2)).to_have_text("emergency flagged")
    expect(queue_row(queue, asking).locator(".badge")).to_have_text("normal")
    order = queue.locator("tbody tr").evaluate_all("rows => rows.map(r => r.textContent)")
    position = {who: next(i for i, text in enumerate(order) if who.masked in text) for who in (asking, in_danger)}
    assert position[in_danger] < position[asking], order
    expect(queue).to_have_title(re.compile(r"^\(!\) \(\d+\) Queue"), timeout=REFRESH)  # an urgent one waits
    assert axe_serious(queue) == []

    # a second staff member watches the queue while the first claims the urgent one
    other, other_problems = _console(new_context(), stack, ben)
    watched = queue_row(other, in_danger)
    expect(watched.locator("td").nth(6)).to_have_text("nobody yet")
    urgent.get_by_role("button", name="Claim").click()
    expect(queue.get_by_role("status")).to_have_text("It is yours now.")
    expect(watched.locator("td").nth(6)).to_have_text(ana, timeout=REFRESH)
    expect(watched.get_by_role("button", name="Claim")).to_have_count(0)
    expect(queue_row(other, asking).get_by_role("button", name="Claim")).to_have_count(1)
    handoff = stack.services.handoff_store.open_for(stack.conversation(in_danger.number).id)
    assert handoff is not None and handoff.state == HandoffState.CLAIMED and handoff.priority == 1

    # the second one opens it: handled by the first, no Claim button for them
    watched.get_by_role("link", name="Open").click()
    expect(other.locator("dl.facts")).to_contain_text(f"handled by {ana}")
    expect(other.get_by_role("button", name="Claim", exact=True)).to_have_count(0)
    assert axe_serious(other) == []
    assert problems == [] and other_problems == []


def test_supervisors_export_transcripts_redacted_unless_they_choose(stack: Stack, new_context: Contexts) -> None:
    phone = Phone(new_context(), stack)
    phone.report_emergency()
    phone.send("you can call me back at 503-555-0187 about the noise")
    url = stack.conversation_url(phone.number)
    sergeant, officer = stack.account("supervisor", "sergeant"), stack.account()

    page, problems = _console(new_context(), stack, sergeant)
    page.goto(url)
    expect(page.locator(".entry.resident", has_text="call me back at ***-***-0187")).to_have_count(1)

    def download(fmt: str) -> str:
        page.get_by_label("Format").select_option(fmt)
        with page.expect_download() as started:
            page.get_by_role("button", name="Export", exact=True).click()
        assert started.value.suggested_filename.endswith(f".{fmt}")
        return Path(started.value.path()).read_text(encoding="utf-8")

    redacted = "you can call me back at [phone] about the noise"
    csv_text = download("csv")
    assert redacted in csv_text and "0187" not in csv_text and phone.number[-4:] not in csv_text
    data = json.loads(download("json"))
    assert (data["contact"], data["personal_data"]) == ("[phone]", "redacted")
    assert redacted in [entry["text"] for entry in data["entries"]]
    assert "0187" not in json.dumps(data) and phone.number[-4:] not in json.dumps(data)

    page.get_by_label("Include personal data (recorded)").check()
    csv_text = download("csv")
    assert "you can call me back at 503-555-0187 about the noise" in csv_text
    data = json.loads(download("json"))
    assert (data["contact"], data["personal_data"]) == (phone.number, "revealed")
    assert "you can call me back at 503-555-0187 about the noise" in [entry["text"] for entry in data["entries"]]
    with stack.services.db.session() as session:
        details = sorted(session.execute(select(AuditEntry.detail).where(
            AuditEntry.action == Action.EXPORT, AuditEntry.actor == sergeant)).scalars())
    assert details == ["format=csv personal_data=included", "format=csv personal_data=redacted",
                       "format=json personal_data=included", "format=json personal_data=redacted"]
    assert axe_serious(page) == []
    assert problems == []

    # staff (not supervisors) see no export form, and a post of their own is refused
    page, _ = _console(new_context(), stack, officer)
    page.goto(url)
    expect(page.get_by_role("heading", name="Transcript")).to_be_visible()
    expect(page.get_by_role("heading", name="Export")).to_have_count(0)
    expect(page.locator("form[action$='/export']")).to_have_count(0)
    assert _post(page, f"{url}/export", {"csrf_token": csrf_token(page), "format": "csv"}) == 403
    with stack.services.db.session() as session:
        assert session.execute(select(AuditEntry).where(
            AuditEntry.action == Action.EXPORT, AuditEntry.actor == officer)).first() is None


def test_forged_form_posts_are_refused(stack: Stack, new_context: Contexts) -> None:
    phone = Phone(new_context(), stack)
    phone.report_emergency()
    url = stack.conversation_url(phone.number)
    officer = stack.account()
    page, _ = _console(new_context(), stack, officer)
    page.goto(url)
    expect(page.get_by_role("heading", name="Transcript")).to_be_visible()
    token = csrf_token(page)

    # another site's page posts a reply form to the console while the officer is signed in
    page.context.route("http://evil.example/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body=f"""<!doctype html><title>Win a prize</title>
        <form method="post" action="{url}/reply"><input name="text" value="forged reply">
        <input name="csrf_token" value="guessed"></form><script>document.forms[0].submit()</script>"""))
    with page.expect_response(lambda r: r.url == f"{url}/reply" and r.request.method == "POST") as forged:
        page.goto("http://evil.example/prize")
    assert forged.value.status in (401, 403)  # 401: the SameSite=Strict cookie stayed home
    assert _staff_messages(stack, phone.number) == []

    # from the console's own origin, without the token, with a wrong one, or from a foreign Origin
    page.goto(url)
    expect(page.get_by_role("heading", name="Transcript")).to_be_visible()
    assert _post(page, f"{url}/reply", {"text": "no token"}) == 403
    assert _post(page, f"{url}/reply", {"text": "wrong token", "csrf_token": token[::-1]}) == 403
    foreign = page.request.post(f"{url}/reply", form={"text": "foreign origin", "csrf_token": token},
                                headers={"Origin": "http://evil.example"}, max_redirects=0)
    assert foreign.status == 403
    assert _staff_messages(stack, phone.number) == []
    # the same post with the token is sent (the checks above refused the forgeries, not every post)
    assert _post(page, f"{url}/reply", {"text": "the real reply", "csrf_token": token}) == 303
    assert _staff_messages(stack, phone.number) == ["the real reply"]
    expect(phone.received("the real reply")).to_be_visible(timeout=15_000)
    account = stack.services.staff_accounts.by_username(officer)
    assert isinstance(account, StaffAccount)
    handoff = stack.services.handoff_store.open_for(stack.conversation(phone.number).id)
    assert handoff is not None and handoff.assigned_to == account.id  # a reply claims a waiting handoff


def test_on_a_phone_screen_with_the_keyboard_only(stack: Stack, browser: Browser, new_context: Contexts) -> None:
    """A staff member on a 375-pixel phone: no sideways scrolling of the page, and the whole
    reply done with the keyboard (Tab to the box, type, Tab to Send, Enter)."""
    phone = Phone(new_context(), stack)
    phone.ask_for_a_person()
    officer = stack.account("staff", "mobile")
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    try:
        console = context.new_page()
        problems = watch(console)
        sign_in_form(console, stack, officer, PASSWORD)
        expect(queue_row(console, phone)).to_have_count(1)
        for url in (console.url, stack.conversation_url(phone.number)):
            console.goto(url)
            width = console.evaluate("() => [document.scrollingElement.scrollWidth, innerWidth]")
            assert width[0] <= width[1], (url, width)
        box = console.get_by_label("Message (SMS: keep it short)")
        box.focus()
        console.keyboard.type("On my way to your street now.")
        console.keyboard.press("Tab")
        assert console.evaluate("() => document.activeElement.textContent") == "Send"
        console.keyboard.press("Enter")
        expect(console.get_by_role("status")).to_have_text("Reply sent.")
        expect(phone.received("On my way to your street now.")).to_be_visible(timeout=ANSWER)
        assert problems == []
    finally:
        context.close()

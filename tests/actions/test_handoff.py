"""`action_request_human` run as rasa_sdk runs it, against a real HandoffService: a (SQLite)
database, a real Redis for the queue signal, the department's staff hours (department.yml)
and a driven clock."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any, Iterator

import pytest
import redis
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionRequestHuman, handoff_reason
from actions.reports import REPORT_FORM_SLOTS
from bot.department import DepartmentProfile
from bot.handoff.service import HandoffService, QueueSignal
from bot.handoff.store import HandoffStore
from bot.responses import ResponseCatalog
from bot.settings import ROOT
from bot.sms import normalize_gsm, segment_count
from bot.storage.conversations import ConversationStore
from bot.storage.database import Database
from bot.storage.models import HandoffReason, HandoffState
from tests.conftest import MutableClock

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
CATALOG = ResponseCatalog(DOMAIN["responses"])
PROFILE = DepartmentProfile.load(ROOT / "department.yml")
TUESDAY_9AM = datetime(2026, 11, 24, 17, 0)  # Port Alder time, in UTC: staff are in
TUESDAY_8PM = datetime(2026, 11, 25, 4, 0)  # staff went home at 5
ENDED = {"event": "active_loop", "name": None, "timestamp": None}


class World:
    def __init__(self, database_url: str, redis_url: str) -> None:
        self.db = Database(database_url)
        self.redis = redis.Redis.from_url(redis_url)
        self.clock = MutableClock(TUESDAY_9AM)
        self.conversations = ConversationStore(self.db, self.clock)
        self.store = HandoffStore(self.db, self.clock)
        self.signal = QueueSignal(self.redis)
        self.handoffs = HandoffService(self.store, self.signal, self.clock, PROFILE.staff_hours, PROFILE.timezone)
        self.ana = self.conversations.get_or_create("sms", "ana", "+15035550101")

    def action(self, handoffs: HandoffService | None = None) -> ActionRequestHuman:
        service = handoffs or self.handoffs
        return ActionRequestHuman(lambda: service, self.conversations.for_rasa_sender)

    def close(self) -> None:
        self.redis.close()
        self.db.dispose()


@pytest.fixture
def world(sqlite_url: str, redis_url: str) -> Iterator[World]:
    w = World(sqlite_url, redis_url)
    yield w
    w.close()


def action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name}


def user(text: str, intent: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": 1.0}}}


# What Rasa logs around a turn: the user message, then the slot-mapping action's slots and
# its NLU report (no ActionExecuted of its own), then this action runs.
def turn(text: str = "/request_human") -> list[dict[str, Any]]:
    return [action("action_listen"), user(text, "request_human"),
            {"event": "slot", "name": "language", "value": "en"},
            {"event": "bot", "text": None, "data": {"custom": {"nlu": {"intent": "request_human"}}}}]


AFTER_TWO_MISSES = [action("action_listen"), user("blorp", "nlu_fallback"), action("action_suggest_intents"),
                    {"event": "bot", "text": "Sorry, did you mean:"},
                    action("action_listen"), user("zzq", "nlu_fallback"), action("utter_fallback_menu"),
                    {"event": "bot", "text": "Here's what I can do"}] + turn()
AFTER_ONE_MISS = [action("action_listen"), user("blorp", "nlu_fallback"), action("action_suggest_intents"),
                  {"event": "bot", "text": "Sorry, did you mean:"}] + turn()
AFTER_A_GREETING = [action("action_listen"), user("hi", "greet"), action("utter_greet"),
                    {"event": "bot", "text": "Hi!"}] + turn("can i talk to a real person")


def run(act: ActionRequestHuman, events: list[dict[str, Any]] | None = None, slots: dict[str, Any] | None = None,
        active_loop: str | None = None, sender: str = "sms-ana") -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    latest = {"text": "talk to a person", "intent": {"name": "request_human", "confidence": 0.98}, "entities": []}
    tracker = Tracker(sender, {"language": "en", **(slots or {})}, latest, events if events is not None else turn(),
                      False, None, {"name": active_loop} if active_loop else {}, "action_listen")
    dispatcher = CollectingDispatcher()
    result = asyncio.run(act.run(dispatcher, tracker, DOMAIN))
    return dispatcher.messages, result


def responses(messages: list[dict[str, Any]]) -> list[str]:
    return [m["response"] for m in messages]


def as_sms(name: str, language: str = "en") -> str:
    slots = {**PROFILE.slot_values(language), "language": language}
    return normalize_gsm(CATALOG.render(name, slots).text)


# -- why: asked for, or because the assistant did not understand ---------------------------------

def test_asking_for_a_person_opens_a_requested_handoff_in_the_queue(world: World) -> None:
    before = world.signal.version()
    messages, events = run(world.action(), AFTER_A_GREETING)
    assert responses(messages) == ["utter_handoff_started"]
    handoff = world.store.open_for(world.ana.id)
    assert handoff is not None
    assert (handoff.reason, handoff.state, handoff.holds) == (HandoffReason.REQUESTED, HandoffState.WAITING, True)
    assert world.signal.version() > before  # the staff queue pages learn of it
    assert events == []  # no form to end, no answers to forget


@pytest.mark.parametrize("events", [AFTER_TWO_MISSES, AFTER_ONE_MISS], ids=["fallback menu", "did you mean"])
def test_a_person_chosen_right_after_a_miss_is_a_fallback_handoff(world: World, events: list[dict[str, Any]]) -> None:
    messages, _ = run(world.action(), events)
    assert responses(messages) == ["utter_handoff_started"]
    handoff = world.store.open_for(world.ana.id)
    assert handoff is not None and handoff.reason == HandoffReason.FALLBACK


def test_a_miss_earlier_in_the_conversation_does_not_make_it_a_fallback() -> None:
    earlier_miss = AFTER_ONE_MISS[:-len(turn())] + [action("action_listen"), user("what can you do", "help"),
                                                   action("utter_help"), {"event": "bot", "text": "Here's"}] + turn()
    tracker = Tracker("sms-ana", {}, {}, earlier_miss, False, None, {}, "action_listen")
    assert handoff_reason(tracker) == HandoffReason.REQUESTED


def test_asking_again_keeps_the_one_open_handoff(world: World) -> None:
    run(world.action())
    messages, _ = run(world.action())
    assert responses(messages) == ["utter_handoff_started"]
    assert len(world.store.for_conversation(world.ana.id)) == 1


# -- when: staff in now, or out --------------------------------------------------------------------

def test_out_of_staff_hours_the_resident_hears_when_staff_reply(world: World) -> None:
    world.clock.current = TUESDAY_8PM
    messages, _ = run(world.action())
    assert responses(messages) == ["utter_handoff_started_closed"]
    assert world.store.open_for(world.ana.id) is not None  # waiting for the morning
    text = as_sms("utter_handoff_started_closed")
    assert PROFILE.slot_values("en")["dept_hours"] in text and "MENU" in text and "911" in text


def test_in_staff_hours_the_resident_hears_a_person_will_reply_here(world: World) -> None:
    messages, _ = run(world.action())
    assert responses(messages) == ["utter_handoff_started"]
    for language in ("en", "es"):
        text = as_sms("utter_handoff_started", language)
        assert "MENU" in text and "911" in text and segment_count(text) == 1


# -- no handoff possible: the station's phone instead -------------------------------------------

def test_an_unknown_sender_is_told_to_call_the_station(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="actions.handoff")
    messages, events = run(world.action(), sender="sms-nobody")
    assert responses(messages) == ["utter_request_human"]
    assert world.store.for_conversation(world.ana.id) == []
    assert any("call the station" in r.getMessage() for r in caplog.records)
    assert events == []


def test_a_database_outage_is_told_to_call_the_station(world: World, tmp_path: Any,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    """The handoff table cannot be written (a database with no tables): no crash, a way to a person."""
    broken_db = Database(f"sqlite:///{tmp_path / 'not-migrated.db'}")
    try:
        broken = HandoffService(HandoffStore(broken_db, world.clock), world.signal, world.clock, PROFILE.staff_hours,
                                PROFILE.timezone)
        caplog.set_level(logging.WARNING, logger="actions.handoff")
        messages, events = run(world.action(broken), slots=_report_answers(), active_loop="report_incident_form")
    finally:
        broken_db.dispose()
    assert responses(messages) == ["utter_request_human"]
    assert [r for r in caplog.records if r.levelno == logging.WARNING and "OperationalError" in r.getMessage()]
    assert ENDED in events  # the form ends either way


def test_a_lookup_that_fails_is_told_to_call_the_station(world: World) -> None:
    def down(sender_id: str) -> None:
        raise ConnectionError("database unreachable")

    messages, _ = run(ActionRequestHuman(lambda: world.handoffs, down))
    assert responses(messages) == ["utter_request_human"]


# -- a form in progress ends ---------------------------------------------------------------------

def _report_answers() -> dict[str, Any]:
    return {"incident_type": "graffiti", "incident_place": '{"kind": "text", "text": "Main St"}',
            "incident_started": TUESDAY_9AM.isoformat(), "requested_slot": "incident_when"}


def test_a_person_in_the_middle_of_a_report_ends_the_form_and_forgets_the_answers(world: World) -> None:
    messages, events = run(world.action(), slots=_report_answers(), active_loop="report_incident_form")
    assert responses(messages) == ["utter_handoff_started"]
    assert events[0] == ENDED
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots == {"requested_slot": None, "incident_type": None, "incident_place": None, "incident_started": None}
    assert set(slots) - {"requested_slot"} <= set(REPORT_FORM_SLOTS)


def test_a_person_in_the_middle_of_a_sign_up_ends_that_form(world: World) -> None:
    messages, events = run(world.action(), slots={"meeting_id": "3", "party_size": 2.0,
                                                  "requested_slot": "signup_reminders"},
                           active_loop="signup_meeting_form")
    assert responses(messages) == ["utter_handoff_started"]
    assert ENDED in events
    assert {e["name"] for e in events if e["event"] == "slot"} == {"requested_slot", "meeting_id", "party_size"}

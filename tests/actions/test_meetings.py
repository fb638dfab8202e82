"""Meeting actions run as rasa_sdk runs them, against a real (SQLite) database and a driven clock."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.meetings import ActionConfirmUnregister, ActionListMeetings, ActionListSignups, ActionUnregisterMeeting
from actions.signup_form import (
    ActionAskMeetingId, ActionAskSignupConfirmed, ActionAskSignupName, ActionLeaveForm, ActionStartSignup,
    ActionSubmitSignup, ValidateSignupMeetingForm, party_size_from,
)
from bot.clock import Clock
from bot.department import DepartmentProfile
from bot.meetings.service import MeetingService
from bot.meetings.store import MeetingStore, SignupStore
from bot.responses import ResponseCatalog
from bot.settings import ROOT
from bot.sms import Button, render_menu, segment_count
from bot.storage.conversations import ConversationStore
from bot.storage.database import Database
from bot.storage.models import Meeting, Signup, SignupStatus
from tests.conftest import MutableClock

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
CATALOG = ResponseCatalog(DOMAIN["responses"])
PROFILE = DepartmentProfile.load(ROOT / "department.yml")
# Tuesday 24 Nov 2026, 9:00 in Port Alder (17:00 UTC)
NOW = datetime(2026, 11, 24, 17, 0)


class World:
    """A database with a few meetings and two residents."""

    def __init__(self, url: str, clock: Clock) -> None:
        self.db = Database(url)
        self.clock = clock
        self.conversations = ConversationStore(self.db, clock)
        self.service = MeetingService(MeetingStore(self.db, clock), SignupStore(self.db, clock), self.conversations,
                                      clock, "America/Los_Angeles", page_size=3,
                                      public_base_url="https://pd.example")
        self.ana = self.conversations.get_or_create("sms", "ana", "+15035550101")
        self.ben = self.conversations.get_or_create("sms", "ben", "+15035550102")
        self.web = self.conversations.get_or_create("web", "webby", "tokenhash")

    def meeting(self, title: str, kind: str, days: float, **fields: Any) -> Meeting:
        start = NOW + timedelta(days=days)
        meeting = Meeting(source_uid=f"{title}-{days}", title=title, kind=kind, starts_at=start,
                          ends_at=start + timedelta(hours=1), timezone="America/Los_Angeles",
                          address=fields.pop("address", "Port Alder Library, 12 Elm St"), seats_taken=0,
                          languages=fields.pop("languages", "en"), status="scheduled", version=1,
                          created_at=NOW, updated_at=NOW, **fields)
        with self.db.session() as session:
            session.add(meeting)
        return meeting


@pytest.fixture
def world(sqlite_url: str) -> World:
    w = World(sqlite_url, MutableClock(NOW))
    yield w
    w.db.dispose()


def run(action: Any, world: World, text: str = "", intent: str = "list_meetings", confidence: float = 0.95,
        entities: list[dict[str, Any]] | None = None, slots: dict[str, Any] | None = None,
        sender: str = "sms-ana") -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    latest = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": entities or []}
    tracker = Tracker(sender, {"language": "en", **(slots or {})}, latest, [], False, None,
                      {"name": slots.get("active_loop")} if slots and slots.get("active_loop") else {},
                      "action_listen")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return dispatcher.messages, events


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def as_sms(message: dict[str, Any], values: dict[str, Any] | None = None) -> str:
    slots = {**PROFILE.slot_values("en"), "language": "en", **(values or {}), **message}
    rendered = CATALOG.render(message["response"], slots)
    buttons = [Button(b["title"], b["payload"]) for b in message.get("buttons") or []]
    return render_menu(rendered.text, buttons, "en")


def provide(world: World):  # type: ignore[no-untyped-def]
    return lambda: world.service


# -- finding meetings -------------------------------------------------------------------------

def test_lists_the_next_meetings_as_buttons_that_start_a_sign_up_with_more(world: World) -> None:
    made = [world.meeting(f"Coffee with a Cop {i}", "coffee_with_a_cop", i + 1) for i in range(5)]
    world.meeting("Old one", "town_hall", -1)
    [message], events = run(ActionListMeetings(provide(world)), world, "what meetings are coming up")
    assert message["response"] == "utter_meetings_list"
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads[:3] == [f'/signup_meeting{{"meeting_id": "{m.id}"}}' for m in made[:3]]
    assert message["buttons"][0]["title"] == "Wed Nov 25 9am Coffee with a Cop 0, Port Alder Library"
    assert message["buttons"][3]["title"] == "More" and json.loads(payloads[3][len("/list_meetings"):]) == {
        "meeting_page": "2"}
    assert segment_count(as_sms(message)) <= 2

    [page2], _ = run(ActionListMeetings(provide(world)), world, payloads[3], entities=[
        {"entity": "meeting_page", "value": "2"}], slots=slot_events(events))
    assert [b["payload"] for b in page2["buttons"]] == [
        f'/signup_meeting{{"meeting_id": "{m.id}"}}' for m in made[3:]]


def test_filters_by_type_day_and_language_and_says_so_when_nothing_matches(world: World) -> None:
    town = world.meeting("Town Hall North", "town_hall", 4)  # Saturday 28 Nov
    spanish = world.meeting("Junta de vecinos", "neighborhood_watch", 2, languages="en,es")
    world.meeting("Coffee with a Cop", "coffee_with_a_cop", 4)
    [message], _ = run(ActionListMeetings(provide(world)), world, "any town halls",
                       entities=[{"entity": "meeting_type", "value": "town_hall"}])
    assert [b["payload"] for b in message["buttons"]] == [f'/signup_meeting{{"meeting_id": "{town.id}"}}']
    [message], _ = run(ActionListMeetings(provide(world)), world, "meetings in spanish this week")
    assert [b["payload"] for b in message["buttons"]] == [f'/signup_meeting{{"meeting_id": "{spanish.id}"}}']
    [message], _ = run(ActionListMeetings(provide(world)), world, "anything on monday?")
    assert message["response"] == "utter_no_meetings_match"
    assert message["buttons"] == [{"title": "All meetings", "payload": "/list_meetings"}]


def test_an_empty_calendar_points_to_the_website(world: World) -> None:
    [message], _ = run(ActionListMeetings(provide(world)), world, "meetings?")
    assert message["response"] == "utter_no_meetings"


# -- the sign-up form ---------------------------------------------------------------------------

def test_start_fills_the_meeting_from_a_list_button_or_the_next_of_a_type(world: World) -> None:
    world.meeting("Town Hall A", "town_hall", 3)
    first = world.meeting("Town Hall B", "town_hall", 2)
    clicked = world.meeting("Workshop", "crime_prevention_workshop", 5)
    _, events = run(ActionStartSignup(provide(world)), world, intent="signup_meeting",
                    entities=[{"entity": "meeting_id", "value": str(clicked.id)}])
    assert slot_events(events)["meeting_id"] == str(clicked.id)
    _, events = run(ActionStartSignup(provide(world)), world, "sign me up for the next town hall",
                    intent="signup_meeting", entities=[{"entity": "meeting_type", "value": "town_hall"}])
    assert slot_events(events)["meeting_id"] == str(first.id)
    _, events = run(ActionStartSignup(provide(world)), world, "sign me up", intent="signup_meeting",
                    slots={"party_size": 3.0, "signup_confirmed": True})
    slots = slot_events(events)
    assert slots.get("meeting_id") is None and slots["party_size"] is None and slots["signup_confirmed"] is None


def validate(world: World, requested: str, text: str, intent: str = "nlu_fallback", confidence: float = 0.4,
             sender: str = "sms-ana", **slots: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    messages, events = run(ValidateSignupMeetingForm(provide(world)), world, text, intent=intent,
                           confidence=confidence, sender=sender,
                           slots={"requested_slot": requested, "active_loop": "signup_meeting_form", **slots})
    return messages, slot_events(events)


def test_a_meeting_that_cannot_be_found_is_asked_again_then_explained(world: World) -> None:
    world.meeting("Town Hall", "town_hall", 3)
    messages, slots = validate(world, "meeting_id", "the purple one")
    assert slots == {"meeting_id": None, "signup_misses": 1.0}
    assert [m["response"] for m in messages] == ["utter_meeting_not_found"]
    messages, slots = validate(world, "meeting_id", "the purple one", signup_misses=1.0)
    assert [m["response"] for m in messages] == ["utter_meeting_not_found_again"]
    assert slots["signup_misses"] == 2.0


def test_a_question_instead_of_an_answer_fills_nothing(world: World) -> None:
    world.meeting("Town Hall", "town_hall", 3)
    for requested in ("meeting_id", "party_size", "signup_reminders", "signup_confirmed"):
        messages, slots = validate(world, requested, "how do i get a copy of a police report",
                                   intent="faq", confidence=0.93)
        assert slots == {} and messages == [], requested


def test_a_full_meeting_is_accepted_with_a_waitlist_warning(world: World) -> None:
    full = world.meeting("Workshop", "crime_prevention_workshop", 3, capacity=1)
    world.service.signups.register(full.id, world.ben.id, "Ben", 1, False)
    messages, events = run(ValidateSignupMeetingForm(provide(world)), world, "", intent="signup_meeting",
                           entities=[{"entity": "meeting_id", "value": str(full.id)}],
                           slots={"requested_slot": "meeting_id", "active_loop": "signup_meeting_form"})
    assert slot_events(events)["meeting_id"] == str(full.id)
    assert [m["response"] for m in messages] == ["utter_meeting_full"]


@pytest.mark.parametrize("text,size", [("2", 2), ("just me", 1), ("solo yo", 1), ("dos", 2), ("three of us", 3),
                                       ("me and my wife", 2), ("we are 4", 4), ("hmm", None)])
def test_party_size_is_read_in_english_and_spanish(text: str, size: int | None) -> None:
    assert party_size_from(text) == size


def test_party_size_outside_1_to_10_is_refused(world: World) -> None:
    messages, slots = validate(world, "party_size", "25")
    assert slots == {"party_size": None}
    assert [m["response"] for m in messages] == ["utter_party_size_invalid"]
    _, slots = validate(world, "party_size", "a few")
    assert slots == {"party_size": None}
    _, slots = validate(world, "party_size", "me and my son")
    assert slots == {"party_size": 2.0}


def test_reminders_are_asked_on_sms_only(world: World) -> None:
    form = ValidateSignupMeetingForm(provide(world))
    domain_slots = DOMAIN["forms"]["signup_meeting_form"]["required_slots"]
    for sender, expected in (("sms-ana", True), ("web-webby", False)):
        tracker = Tracker(sender, {}, {}, [], False, None, {}, "action_listen")
        slots = asyncio.run(form.required_slots(list(domain_slots), CollectingDispatcher(), tracker, DOMAIN))
        assert ("signup_reminders" in slots) is expected


def test_the_name_is_never_taken_from_text_only_from_the_pipelines_private_answer(world: World) -> None:
    _, slots = validate(world, "signup_name", "Ana Ruiz", intent="greet", confidence=0.5)
    assert "signup_name" in slots and slots["signup_name"] is None  # text reaching Rasa is never the name: asked again
    _, slots = validate(world, "signup_name", "what is neighborhood watch", intent="faq", confidence=0.95)
    assert "signup_name" not in slots  # a question: the rules answer it, then the form asks again
    _, slots = validate(world, "signup_name", "/inform_name", intent="inform_name", confidence=1.0)
    assert slots == {"signup_name": "private_name"}
    [ask, marker], _ = run(ActionAskSignupName(provide(world)), world)
    assert ask["response"] == "utter_ask_signup_name" and marker["custom"] == {"expect": "private_name"}


def test_yes_and_no_answers(world: World) -> None:
    _, slots = validate(world, "signup_reminders", "yes please", intent="affirm", confidence=0.9)
    assert slots == {"signup_reminders": True}
    _, slots = validate(world, "signup_confirmed", "nah", intent="deny", confidence=0.9)
    assert slots == {"signup_confirmed": False}
    _, slots = validate(world, "signup_confirmed", "sí", intent="nlu_fallback", confidence=0.3)
    assert slots == {"signup_confirmed": True}


def test_the_summary_says_what_will_be_saved_and_offers_yes_no(world: World) -> None:
    meeting = world.meeting("Town Hall", "town_hall", 3)
    [message], _ = run(ActionAskSignupConfirmed(provide(world)), world, slots={
        "meeting_id": str(meeting.id), "party_size": 2.0, "signup_reminders": True})
    assert message["response"] == "utter_ask_signup_confirmed"
    text = as_sms(message)
    assert "Town Hall, Fri Nov 27 9am, Port Alder Library, 12 Elm St. People: 2. Reminders: yes." in text
    assert "1 - Yes" in text and "2 - No" in text


def test_submit_registers_with_the_private_name_a_code_and_a_calendar_link(world: World) -> None:
    meeting = world.meeting("Town Hall", "town_hall", 3)
    world.conversations.keep_private_answer(world.ana.id, "Ana Ruiz")
    [message], events = run(ActionSubmitSignup(provide(world)), world, slots={
        "meeting_id": str(meeting.id), "signup_name": "private_name", "party_size": 2.0,
        "signup_reminders": True, "signup_confirmed": True})
    assert message["response"] == "utter_signed_up"
    assert message["calendar_link"] == f"https://pd.example/meetings/{meeting.id}.ics"
    [(signup, _)] = world.service.signups.upcoming_for(world.ana.id)
    assert (signup.name, signup.party_size, signup.reminders, signup.status) == ("Ana Ruiz", 2, True, "registered")
    assert message["code"] == signup.code
    assert world.conversations.get(world.ana.id).private_answer is None  # used once, then gone
    assert SlotSet("meeting_id", None) in events or {"event": "slot", "name": "meeting_id", "value": None,
                                                     "timestamp": None} in events
    assert segment_count(as_sms(message)) <= 2


def test_submit_waitlists_when_the_last_seat_went_meanwhile_and_saves_nothing_unconfirmed(world: World) -> None:
    meeting = world.meeting("Workshop", "crime_prevention_workshop", 3, capacity=1)
    world.service.signups.register(meeting.id, world.ben.id, "Ben", 1, False)
    slots = {"meeting_id": str(meeting.id), "party_size": 1.0, "signup_reminders": False}
    [message], _ = run(ActionSubmitSignup(provide(world)), world, slots={**slots, "signup_confirmed": False})
    assert message["response"] == "utter_signup_not_saved"
    assert world.service.signups.upcoming_for(world.ana.id) == []
    [message], _ = run(ActionSubmitSignup(provide(world)), world, slots={**slots, "signup_confirmed": True})
    assert message["response"] == "utter_waitlisted"
    [(signup, _)] = world.service.signups.upcoming_for(world.ana.id)
    assert signup.status == SignupStatus.WAITLISTED


def test_leaving_forgets_the_private_answer(world: World) -> None:
    world.conversations.keep_private_answer(world.ana.id, "Ana Ruiz")
    [message], events = run(ActionLeaveForm(provide(world)), world, "never mind", intent="leave_form")
    assert message["response"] == "utter_form_left"
    assert world.conversations.get(world.ana.id).private_answer is None
    assert all(e["value"] is None for e in events)


def test_the_meeting_question_lists_meetings_as_buttons(world: World) -> None:
    meeting = world.meeting("Town Hall", "town_hall", 3)
    [message], _ = run(ActionAskMeetingId(provide(world)), world)
    assert message["response"] == "utter_ask_meeting_id"
    assert message["buttons"][0]["payload"] == f'/signup_meeting{{"meeting_id": "{meeting.id}"}}'


# -- my sign-ups, dropping one ------------------------------------------------------------------

def test_my_signups_lists_codes_and_waitlist_places(world: World) -> None:
    open_ = world.meeting("Town Hall", "town_hall", 3)
    full = world.meeting("Workshop", "crime_prevention_workshop", 4, capacity=1)
    world.service.signups.register(full.id, world.ben.id, "Ben", 1, False)
    a = world.service.signups.register(open_.id, world.ana.id, "Ana", 1, False).signup
    b = world.service.signups.register(full.id, world.ana.id, "Ana", 1, False).signup
    [message], _ = run(ActionListSignups(provide(world)), world, intent="my_signups")
    assert message["response"] == "utter_signups_list"
    assert message["signup_lines"].splitlines() == [
        f"Fri Nov 27 9am Town Hall ({a.code})",
        f"Sat Nov 28 9am Workshop ({b.code}, waitlist)",
    ]
    [message], _ = run(ActionListSignups(provide(world)), world, intent="my_signups", sender="sms-ben")
    assert f"({b.code}" not in message["signup_lines"]


def test_dropping_asks_which_then_confirms_and_moves_the_waitlist_in(world: World) -> None:
    full = world.meeting("Workshop", "crime_prevention_workshop", 4, capacity=1)
    other = world.meeting("Town Hall", "town_hall", 3)
    mine = world.service.signups.register(full.id, world.ana.id, "Ana", 1, False).signup
    world.service.signups.register(other.id, world.ana.id, "Ana", 1, False)
    waiting = world.service.signups.register(full.id, world.ben.id, "Ben", 1, True).signup
    assert waiting.status == SignupStatus.WAITLISTED

    [which], _ = run(ActionUnregisterMeeting(provide(world)), world, "i can't make it", intent="unregister_meeting")
    assert which["response"] == "utter_ask_which_signup" and len(which["buttons"]) == 2
    payload = next(b["payload"] for b in which["buttons"] if mine.code in b["payload"])
    [confirm], _ = run(ActionUnregisterMeeting(provide(world)), world, payload, intent="unregister_meeting",
                       entities=[{"entity": "signup_code", "value": mine.code}])
    assert confirm["response"] == "utter_confirm_unregister"
    assert [b["title"] for b in confirm["buttons"]] == ["Yes", "No"]
    assert "Drop your sign-up for Workshop, Sat Nov 28 9am?" in as_sms(confirm)

    # someone else cannot use the code
    [nope], _ = run(ActionConfirmUnregister(provide(world)), world, intent="confirm_unregister",
                    entities=[{"entity": "signup_code", "value": mine.code}], sender="sms-ben")
    assert nope["response"] == "utter_no_signups"
    [done], _ = run(ActionConfirmUnregister(provide(world)), world, intent="confirm_unregister",
                    entities=[{"entity": "signup_code", "value": mine.code}])
    assert done["response"] == "utter_unregistered"
    with world.db.session() as session:
        assert session.get(Signup, mine.id).status == SignupStatus.CANCELLED
        promoted = session.get(Signup, waiting.id)
        assert promoted.status == SignupStatus.REGISTERED and promoted.promoted_at == NOW


def test_a_typed_code_or_type_picks_the_sign_up_to_drop(world: World) -> None:
    town = world.meeting("Town Hall", "town_hall", 3)
    coffee = world.meeting("Coffee with a Cop", "coffee_with_a_cop", 4)
    world.service.signups.register(town.id, world.ana.id, "Ana", 1, False)
    c = world.service.signups.register(coffee.id, world.ana.id, "Ana", 1, False).signup
    [confirm], _ = run(ActionUnregisterMeeting(provide(world)), world, f"drop {c.code.lower()} please",
                       intent="unregister_meeting")
    assert c.code in confirm["buttons"][0]["payload"]
    [confirm], _ = run(ActionUnregisterMeeting(provide(world)), world, "i can't go to coffee with a cop",
                       intent="unregister_meeting", entities=[{"entity": "meeting_type", "value": "coffee_with_a_cop"}])
    assert c.code in confirm["buttons"][0]["payload"]


def test_nothing_to_drop(world: World) -> None:
    [message], _ = run(ActionUnregisterMeeting(provide(world)), world, "take me off the list",
                       intent="unregister_meeting")
    assert message["response"] == "utter_no_signups"


def test_the_action_server_registers_every_custom_action_of_the_domain() -> None:
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    custom = [a for a in DOMAIN["actions"] if a.startswith(("action_", "validate_"))]
    assert sorted(set(custom) - set(executor.actions)) == []


def test_cleared_answers_are_not_validated_as_wrong_answers(world: World) -> None:
    """Rasa validates every slot set since the last message, even to None (the form's start clears them)."""
    form = ValidateSignupMeetingForm(provide(world))
    assert form.validate_meeting_id(None, CollectingDispatcher(), None, DOMAIN) == {"meeting_id": None}  # type: ignore[arg-type]
    dispatcher = CollectingDispatcher()
    assert form.validate_party_size(None, dispatcher, None, DOMAIN) == {"party_size": None}  # type: ignore[arg-type]
    assert dispatcher.messages == []
    _, events = run(ActionStartSignup(provide(world)), world, "sign me up", intent="signup_meeting")
    assert events == []  # nothing was set: nothing to clear

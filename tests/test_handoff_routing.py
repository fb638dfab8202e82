"""Routing while a person handles a conversation: the pipeline with a real Redis queue and worker,
the real database, and Rasa's REST channel answering from a script (so the test can see exactly
which messages reached Rasa). Safety flags, reports held for review and the on-call text too."""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Iterator

import pytest

from bot.handoff.words import wants_assistant
from bot.services import Services
from bot.storage.models import HandoffReason, HandoffState, InboundStatus, OutboundStatus
from tests.conftest import MutableClock
from tests.fakes.scripted_rasa import ScriptedRasa
from tests.fakes.twilio_api import FakeTwilio
from tests.phone import Phone, rendered

EMERGENCY = "someone is breaking into my house right now"
STAFFED = datetime(2026, 11, 24, 17, 0)  # Tuesday 09:00 in Port Alder
AFTER_HOURS = datetime(2026, 11, 25, 7, 0)  # Tuesday 23:00 in Port Alder


@pytest.fixture
def rasa() -> Iterator[ScriptedRasa]:
    server = ScriptedRasa().start()
    yield server
    server.stop()


@pytest.fixture
def services(make_services: Callable[..., Services], rasa: ScriptedRasa) -> Services:
    return make_services(MutableClock(STAFFED), rasa_url=rasa.url)


def _held(services: Services, phone: Phone) -> None:
    phone.text("hello")  # the conversation exists
    services.handoffs.start(phone.conversation.id, HandoffReason.REQUESTED)


def test_a_held_conversation_never_reaches_rasa_and_the_resident_hears_nothing(
        services: Services, rasa: ScriptedRasa) -> None:
    phone = Phone(services)
    _held(services, phone)
    reached = len(rasa.received)
    assert phone.text("is anyone there? my neighbor's car has been parked on my lawn") == []
    assert phone.text("hello??") == []
    assert len(rasa.received) == reached
    inbound = [m for m in services.messages.transcript(phone.conversation.id) if m.direction == "in"]
    assert [m.status for m in inbound[-2:]] == [InboundStatus.PROCESSED] * 2  # handled: nothing left to retry
    assert services.handoff_store.open_for(phone.conversation.id) is not None


def test_emergencies_are_still_answered_in_a_handoff_and_move_it_to_the_top(
        services: Services, rasa: ScriptedRasa) -> None:
    phone = Phone(services)
    _held(services, phone)
    reached = len(rasa.received)
    replies = phone.text(EMERGENCY)
    assert replies == [next(iter(rendered(services, "utter_emergency", "en")))]  # no second "staff will read" text
    assert len(rasa.received) == reached
    handoff = services.handoff_store.open_for(phone.conversation.id)
    assert handoff is not None and handoff.reason == HandoffReason.EMERGENCY and handoff.priority == 1


def test_menu_hands_the_conversation_back_and_the_assistant_shows_what_it_can_do(
        services: Services, rasa: ScriptedRasa) -> None:
    phone = Phone(services)
    _held(services, phone)
    handoff = services.handoff_store.open_for(phone.conversation.id)
    assert handoff is not None
    replies = phone.text("Menu")
    assert replies[0] in rendered(services, "utter_handoff_back", "en")
    assert rasa.received[-1]["message"] == "/help"
    assert replies[1] == "You said: /help"  # the assistant's answer to /help
    closed = services.handoff_store.get(handoff.id)
    assert closed.state == HandoffState.RESOLVED and closed.resolved_by == "resident"
    assert phone.text("what are the station hours")[0] == "You said: what are the station hours"


def test_back_to_the_bot_phrases_are_exact_not_contained() -> None:
    for text in ("menu", "MENU!", "back to the bot", "Volver al asistente", "menú", "  Menu. "):
        assert wants_assistant(text), text
    for text in ("is the menu at the coffee event vegan?", "the bot is useless", "", "menus"):
        assert not wants_assistant(text), text


def test_a_safety_flag_opens_an_urgent_handoff_and_says_so_once(services: Services, rasa: ScriptedRasa) -> None:
    phone = Phone(services)
    replies = phone.text(EMERGENCY)
    assert replies[0] in rendered(services, "utter_emergency", "en")
    assert replies[1:] == [next(iter(rendered(services, "utter_handoff_flagged", "en")))]
    handoff = services.handoff_store.open_for(phone.conversation.id)
    assert handoff is not None and handoff.priority == 1 and handoff.holds
    assert services.handoff_store.queue()[0].id == handoff.id
    assert len(phone.text(EMERGENCY)) == 1  # the 911 answer again, the handoff notice not again
    # neither message went to Rasa; only the payload that ends a form in progress did
    assert [m["message"] for m in rasa.received] == ["/leave_form"]


def test_after_hours_the_resident_hears_when_staff_will_read_it(
        make_services: Callable[..., Services], rasa: ScriptedRasa) -> None:
    services = make_services(MutableClock(AFTER_HOURS), rasa_url=rasa.url)
    phone = Phone(services)
    replies = phone.text("i dont want to live anymore")
    assert "988" in replies[0]
    closed = rendered(services, "utter_handoff_flagged_closed", "en")
    assert replies[1] in closed and services.profile.hours["en"] in replies[1]


def test_spanish_resident_hears_the_handoff_in_spanish(services: Services) -> None:
    phone = Phone(services)
    phone.text("hola, necesito ayuda con una pregunta")
    replies = phone.text("alguien está entrando a mi casa ahora mismo")
    assert phone.conversation.language == "es"
    assert replies[-1] in rendered(services, "utter_handoff_flagged", "es")


def test_open_is_idempotent_and_a_more_urgent_reason_takes_over(services: Services) -> None:
    phone = Phone(services)
    phone.text("hi")
    cid = phone.conversation.id
    first = services.handoffs.start(cid, HandoffReason.REPORT_REVIEW)
    assert first.created and not first.handoff.holds and first.handoff.priority == 2
    again = services.handoffs.start(cid, HandoffReason.FALLBACK)
    assert not again.created and again.handoff.id == first.handoff.id
    assert again.handoff.holds and again.handoff.priority == 2 and again.handoff.reason == HandoffReason.REPORT_REVIEW
    urgent = services.handoffs.start(cid, HandoffReason.CRISIS)
    assert urgent.raised and urgent.handoff.priority == 1 and urgent.handoff.reason == HandoffReason.CRISIS
    assert len(services.handoff_store.for_conversation(cid)) == 1


def test_a_report_held_for_review_is_queued_for_staff_but_the_assistant_keeps_answering(
        services: Services, rasa: ScriptedRasa) -> None:
    from bot.reports.places import parse_place
    from bot.reports.service import ReportDraft

    phone = Phone(services)
    phone.text("hi")
    draft = ReportDraft(report_type="suspicious_activity", place=parse_place("5th and Main"), when=None,
                        description="a tall guy in a hoodie", anonymous=False, follow_up=False)
    report = services.report_service.file(phone.conversation.id, draft)
    assert report.review_reason
    handoff = services.handoff_store.open_for(phone.conversation.id)
    assert handoff is not None and handoff.reason == HandoffReason.REPORT_REVIEW and handoff.report_id == report.id
    assert not handoff.holds
    assert phone.text("what are the station hours") == ["You said: what are the station hours"]


def test_claims_race_one_wins_and_resolve_happens_once(services: Services) -> None:
    phone = Phone(services)
    _held(services, phone)
    ana = services.staff_accounts.create("ana", "correct horse battery")
    ben = services.staff_accounts.create("ben", "another long password")
    handoff = services.handoff_store.open_for(phone.conversation.id)
    assert handoff is not None
    assert services.handoffs.claim(handoff.id, ana.id)
    assert not services.handoffs.claim(handoff.id, ben.id)
    assert services.handoffs.claim(handoff.id, ben.id, take_over=True)  # a supervisor assigning
    assert services.handoff_store.get(handoff.id).assigned_to == ben.id
    version = services.handoffs.version()
    assert services.handoffs.resolve(handoff.id, "ben")
    assert not services.handoffs.resolve(handoff.id, "ana")
    assert services.handoffs.version() == version + 1
    assert services.handoffs.holding(phone.conversation.id) is None


def test_a_new_safety_handoff_texts_the_on_call_number_without_personal_data(
        make_services: Callable[..., Services], rasa: ScriptedRasa, fake_twilio: FakeTwilio) -> None:
    services = make_services(
        MutableClock(STAFFED), rasa_url=rasa.url, twilio_account_sid=fake_twilio.account_sid,
        twilio_auth_token=fake_twilio.auth_token, twilio_from_number="+15035550100",
        twilio_api_base_url=fake_twilio.base_url, handoff_oncall_number="+15035550111")
    phone = Phone(services)
    phone.text(EMERGENCY)
    to_on_call = [m for m in fake_twilio.sent if m.to == "+15035550111"]
    assert len(to_on_call) == 1
    assert "urgent" in to_on_call[0].body and "/staff/" in to_on_call[0].body
    assert phone.number not in to_on_call[0].body and "breaking" not in to_on_call[0].body
    phone.text(EMERGENCY)  # the same handoff: no second page
    assert len([m for m in fake_twilio.sent if m.to == "+15035550111"]) == 1
    audit = services.audit.entries()
    assert audit[0].action == "on_call_notice" and "sent" in (audit[0].detail or "")
    # a failing on-call text costs the resident nothing
    other = Phone(services)
    fake_twilio.invalid_numbers.add("+15035550111")
    replies = other.text(EMERGENCY)
    assert "911" in replies[0]
    assert [m.status for m in other.outbound()] == [OutboundStatus.SENT, OutboundStatus.SENT]
    assert "failed" in (services.audit.entries()[0].detail or "")


# -- with the real trained Rasa server and action server -----------------------------------

def _started(services: Services) -> set[str]:
    """The action server reads the system clock: staff may be in or out when the test runs."""
    return rendered(services, "utter_handoff_started", "en") | rendered(services, "utter_handoff_started_closed", "en")


def test_asking_for_a_person_hands_over_and_menu_hands_back(live: Services) -> None:
    phone = Phone(live)
    replies = phone.text("can i talk to a real person please")
    assert replies and replies[-1] in _started(live)
    handoff = live.handoff_store.open_for(phone.conversation.id)
    assert handoff is not None and handoff.reason == HandoffReason.REQUESTED and handoff.holds
    assert phone.text("my neighbor's dog barks all night, who do I call") == []
    back = phone.text("menu")
    assert back[0] in rendered(live, "utter_handoff_back", "en")
    assert "1 - " in back[1]  # the assistant's menu of what it can do
    assert live.handoff_store.get(handoff.id).state == HandoffState.RESOLVED
    hours = phone.text("what are the station hours")
    assert hours and live.profile.hours["en"] in hours[0]


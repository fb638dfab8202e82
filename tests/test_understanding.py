"""How the assistant understands residents, end to end against the real trained model:
two-stage fallback, the point of a message after a greeting, and the reply language."""
from __future__ import annotations

import pytest

from bot.services import Services
from bot.sms import normalize_gsm
from tests.phone import Phone, rendered

# Messages the trained model is not confident about (nlu_fallback), yet close enough to
# something it does that it has a guess.
UNCLEAR = "the thing with the stuff from last time"
STILL_UNCLEAR = "about that thing"


def menu_lines(reply: str) -> list[str]:
    return [line.split(" - ", 1)[1] for line in reply.splitlines() if line[:1].isdigit() and " - " in line]


def inbound_intents(live: Services, phone: Phone) -> list[str | None]:
    return [m.intent for m in live.messages.transcript(phone.conversation.id) if m.direction == "in"]


def test_first_miss_offers_guesses_and_second_miss_offers_the_menu_and_a_person(live: Services) -> None:
    phone = Phone(live)
    [first] = phone.text(UNCLEAR)
    assert first.startswith("Sorry, I'm not sure I understood. Did you mean:")
    options = menu_lines(first)
    assert 2 <= len(options) <= 3 and options[-1] == "Something else"

    [second] = phone.text(STILL_UNCLEAR)
    assert second in rendered(live, "utter_fallback_menu", "en")
    assert menu_lines(second)[-1] == "Talk to a person"
    assert inbound_intents(live, phone) == ["nlu_fallback", "nlu_fallback"]

    [person] = phone.text(str(len(menu_lines(second))))
    # handed to staff, who may be in or out (the action server reads the system clock)
    assert person in rendered(live, "utter_handoff_started", "en") | rendered(live, "utter_handoff_started_closed", "en")
    handoff = live.handoff_store.open_for(phone.conversation.id)
    assert handoff is not None and handoff.reason == "fallback"


def test_a_guess_picked_by_number_is_answered(live: Services) -> None:
    phone = Phone(live)
    [first] = phone.text(UNCLEAR)
    options = menu_lines(first)
    [answer] = phone.text("1")
    assert answer not in rendered(live, "utter_fallback_menu", "en")
    assert inbound_intents(live, phone)[-1] in {"choose_topic", "report_incident", "check_report_status",
                                                "list_meetings", "signup_meeting", "my_signups", "help",
                                                "request_human", "find_beat_officer", "crime_stats",
                                                "give_feedback", "subscribe_alerts", "unsubscribe_alerts",
                                                "unregister_meeting", "bot_challenge"}, options


def test_something_else_opens_what_the_assistant_can_do(live: Services) -> None:
    phone = Phone(live)
    [first] = phone.text(UNCLEAR)
    [menu] = phone.text(str(len(menu_lines(first))))
    assert menu in rendered(live, "utter_help", "en")


def test_a_miss_in_spanish_is_offered_in_spanish(live: Services) -> None:
    phone = Phone(live)
    phone.text("hola buenas tardes")
    [first] = phone.text("alertas reunion")  # two topics, no verb: the model is split
    assert first.startswith("Perdon, no estoy seguro de haber entendido.")
    assert menu_lines(first)[-1] == "Otra cosa"


@pytest.mark.parametrize("text", [
    "hi, my car was broken into last night, what do I do",
    "hey good afternoon! someone spray painted gang signs on the back wall of the library, who do i tell",
    "buenas tardes, alguien dejó un carro abandonado frente a mi casa hace dos semanas, a quién le aviso",
])
def test_the_point_after_a_greeting_wins_over_the_greeting(live: Services, text: str) -> None:
    phone = Phone(live)
    replies = phone.text(text)
    language = "es" if text.startswith("buenas") else "en"
    # the report form starts, with what the message already said filled in
    questions = {normalize_gsm(live.catalog.render(name, live.pipeline.slots(language)).text)
                 for name in ("utter_ask_incident_type", "utter_ask_incident_place", "utter_ask_incident_when",
                              "utter_ask_incident_description")}
    assert replies and any(replies[0].startswith(question) for question in questions), replies
    assert inbound_intents(live, phone) == ["report_incident"]


def test_reply_language_follows_the_resident_and_an_explicit_request(live: Services) -> None:
    phone = Phone(live)
    [hola] = phone.text("hola, cuál es el horario de la estación")
    assert hola in rendered(live, "utter_faq/station_hours_location", "es")
    phone.text("ok")  # one ambiguous word keeps Spanish
    assert phone.conversation.language == "es"
    [english] = phone.text("english please")
    assert phone.conversation.language == "en"
    [hours] = phone.text("what are the station hours")
    assert hours in rendered(live, "utter_faq/station_hours_location", "en")

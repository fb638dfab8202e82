"""The conversation pipeline end to end with a real, trained Rasa server and action server,
a real Redis queue and worker, and the development outbox."""
from __future__ import annotations

from typing import Callable

from bot.services import Services
from bot.sms import normalize_gsm
from bot.storage.models import InboundStatus, OutboundStatus
from tests.conftest import MutableClock, RasaStack, run_worker
from tests.fakes.broken_rasa import BrokenRasa
from tests.phone import Phone, rendered


def test_greeting_in_english_with_intent_recorded(live: Services) -> None:
    phone = Phone(live)
    replies = phone.text("hi")
    assert len(replies) == 1 and replies[0] in rendered(live, "utter_greet", "en")
    inbound = [m for m in live.messages.transcript(phone.conversation.id) if m.direction == "in"][0]
    assert inbound.status == InboundStatus.PROCESSED and inbound.intent == "greet"
    assert 0.0 < inbound.confidence <= 1.0


def test_faq_answer_states_the_department_fact_from_the_profile(live: Services) -> None:
    replies = Phone(live).text("how do i join neighborhood watch")
    assert replies and replies[0] in rendered(live, "utter_faq/neighborhood_watch", "en")
    assert live.profile.links["neighborhood_watch"] in replies[0]


def test_spanish_message_gets_a_spanish_answer_and_the_language_sticks(live: Services) -> None:
    phone = Phone(live)
    replies = phone.text("quiero ir a una reunion")
    # a sign-up asks which meeting; a list shows them: both in Spanish
    assert replies and replies[0].startswith((normalize_gsm("¿A qué reunión quiere ir?"),
                                                normalize_gsm("Próximas reuniones.")))
    assert phone.conversation.language == "es"
    assert phone.text("97301")  # ambiguous: keeps Spanish
    assert phone.conversation.language == "es"


def test_emergency_gets_911_at_once_and_flags_the_conversation(live: Services) -> None:
    phone = Phone(live)
    replies = phone.text("someone is breaking into my neighbor's house right now")
    assert replies and replies[0] in rendered(live, "utter_emergency", "en") and "911" in replies[0]
    assert phone.conversation.flagged and phone.conversation.flag_reason == "emergency"
    inbound = [m for m in live.messages.transcript(phone.conversation.id) if m.direction == "in"][0]
    assert inbound.safety == "emergency" and inbound.intent is None  # answered before any NLU


def test_crisis_gets_988(live: Services) -> None:
    phone = Phone(live)
    replies = phone.text("i dont want to live anymore")
    assert replies and "988" in replies[0] and phone.conversation.flag_reason == "crisis"


def test_numbered_menu_maps_back_to_the_payload_and_never_shows_it(live: Services) -> None:
    phone = Phone(live)
    menu = phone.text("what can you do")
    assert menu and "1 - " in menu[0] and "/" not in menu[0].split("\n", 1)[1]
    replies = phone.text("1")
    assert replies[0].startswith("Upcoming meetings. Pick one to sign up:")
    inbound = [m for m in live.messages.transcript(phone.conversation.id) if m.direction == "in"]
    assert inbound[-1].intent == "list_meetings"


def test_stop_then_nothing_is_sent_until_start(live: Services) -> None:
    phone = Phone(live)
    phone.text("hi")
    assert phone.text("STOP") == []
    assert live.consent.is_opted_out(phone.conversation.address_hash)
    before = len(phone.outbound())
    phone.send("are you there?")
    phone.send("HELP")
    run_worker(live)
    after = phone.outbound()[before:]
    assert all(m.status == OutboundStatus.BLOCKED for m in after)
    replies = phone.text("START")
    assert replies and replies[0] in rendered(live, "utter_consent_opted_in", "en")
    assert phone.outbound()[-1].status == OutboundStatus.RECORDED
    assert phone.text("hi")[0] in rendered(live, "utter_greet", "en")


def test_help_keyword_answers_with_the_department_and_911(live: Services) -> None:
    replies = Phone(live).text("HELP")
    assert replies and live.profile.name in replies[0] and "911" in replies[0]


def test_photo_without_text_gets_a_sensible_reply(live: Services) -> None:
    replies = Phone(live).text("", num_media=1)
    assert replies and replies[0] in rendered(live, "utter_media_only", "en")


def test_each_residents_messages_are_answered_in_order(live: Services) -> None:
    alice, bob = Phone(live), Phone(live)
    for a, b in [("hi", "hola"), ("what can you do", "gracias"), ("1", "adios")]:
        alice.send(a)
        bob.send(b)
    run_worker(live)
    a_out = [m.text for m in alice.outbound()]
    assert a_out[0] in rendered(live, "utter_greet", "en")
    assert "1 - " in a_out[1]
    assert a_out[2].startswith("Upcoming meetings. Pick one to sign up:")
    assert len(bob.outbound()) == 3 and bob.conversation.language == "es"


def test_rasa_down_means_bounded_retries_then_one_apology(make_services: Callable[..., Services]) -> None:
    services = make_services(rasa_url="http://127.0.0.1:9", max_turn_attempts=3)
    phone = Phone(services)
    replies = phone.text("how do i get a police report")
    assert len(replies) == 1 and replies[0] in rendered(services, "utter_service_apology", "en")
    inbound = [m for m in services.messages.transcript(phone.conversation.id) if m.direction == "in"][0]
    assert inbound.status == InboundStatus.FAILED and inbound.attempts == 3
    assert inbound.text == "how do i get a police report"  # still recorded for staff


def test_rasa_answering_an_empty_list_is_treated_as_an_outage(make_services: Callable[..., Services]) -> None:
    broken = BrokenRasa().start()
    try:
        services = make_services(rasa_url=broken.url, max_turn_attempts=2)
        replies = Phone(services).text("hi")
        assert len(replies) == 1 and replies[0] in rendered(services, "utter_service_apology", "en")
        assert broken.calls == 2
    finally:
        broken.stop()


def test_redis_restart_loses_the_queue_but_not_the_message(make_services: Callable[..., Services],
                                                          rasa_stack: RasaStack, redis_server) -> None:  # type: ignore[no-untyped-def]
    clock = MutableClock()
    services = make_services(clock=clock, rasa_url=rasa_stack.url)
    phone = Phone(services)
    phone.send("hi")  # stored and queued...
    assert services.queue.count == 1
    redis_server.restart()  # ...and the queue is gone (Redis keeps nothing on disk)
    services.redis.connection_pool.disconnect()
    assert services.queue.count == 0
    clock.advance(minutes=5)
    from bot.jobs import recover_pending

    assert recover_pending(services) == 1
    run_worker(services)
    assert [m.text for m in phone.outbound()][0] in rendered(services, "utter_greet", "en")


def test_a_job_lost_with_a_dead_worker_is_picked_up_again(make_services: Callable[..., Services],
                                                         rasa_stack: RasaStack) -> None:
    clock = MutableClock()
    services = make_services(clock=clock, rasa_url=rasa_stack.url)
    phone = Phone(services)
    phone.send("hi")
    services.queue.empty()  # the worker that took the job died with it
    from bot.jobs import recover_pending

    assert recover_pending(services) == 0  # too fresh: maybe a worker is still on it
    clock.advance(minutes=5)
    assert recover_pending(services) == 1
    run_worker(services)
    assert len(phone.outbound()) == 1
    assert recover_pending(services) == 0

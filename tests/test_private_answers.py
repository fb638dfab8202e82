"""A name asked for by a form is kept in the database and never reaches Rasa
(bot/private_answers.py, bot/pipeline.py). Rasa is a scripted stand-in that records what it gets."""
from __future__ import annotations

import json
from typing import Any, Callable, Iterator

import pytest

from bot.private_answers import name_from
from bot.services import Services
from tests.fakes.scripted_rasa import ScriptedRasa
from tests.phone import Phone

ASK = [{"text": "What name should we put on the list?"}, {"custom": {"expect": "private_name"}}]


def form_script(message: str) -> list[dict[str, Any]]:
    if message == "sign me up":
        return ASK
    if message == "/inform_name":
        return [{"text": "How many people are coming?"}]
    return [{"text": f"You said: {message}"}] + (ASK if message.endswith("?") else [])


def parse(text: str) -> tuple[str, float]:
    return ("faq", 0.95) if text.endswith("?") else ("nlu_fallback", 0.3)


@pytest.fixture
def rasa() -> Iterator[ScriptedRasa]:
    server = ScriptedRasa(form_script, parse=parse).start()
    yield server
    server.stop()


@pytest.fixture
def services(make_services: Callable[..., Services], rasa: ScriptedRasa) -> Services:
    return make_services(rasa_url=rasa.url)


def sent_to_rasa(rasa: ScriptedRasa) -> list[str]:
    return [r["message"] for r in rasa.received if "message" in r]


def test_the_name_goes_to_the_database_and_rasa_gets_a_placeholder(services: Services, rasa: ScriptedRasa) -> None:
    phone = Phone(services)
    assert phone.text("sign me up") == ["What name should we put on the list?"]
    assert phone.conversation.expecting == "private_name"
    assert phone.text("my name is Ana María Ruiz") == ["How many people are coming?"]
    assert sent_to_rasa(rasa) == ["sign me up", "/inform_name"]
    assert "Ana" not in json.dumps(rasa.received)
    conversation = phone.conversation
    assert conversation.private_answer == "Ana María Ruiz" and conversation.expecting is None
    assert services.conversations.take_private_answer(conversation.id) == "Ana María Ruiz"
    assert services.conversations.take_private_answer(conversation.id) is None


def test_a_question_instead_of_the_name_reaches_rasa_and_the_question_is_asked_again(
        services: Services, rasa: ScriptedRasa) -> None:
    phone = Phone(services)
    phone.text("sign me up")
    replies = phone.text("what is neighborhood watch?")
    assert replies == ["You said: what is neighborhood watch?", "What name should we put on the list?"]
    assert phone.conversation.expecting == "private_name" and phone.conversation.private_answer is None
    phone.text("Bo Li")
    assert sent_to_rasa(rasa)[-1] == "/inform_name"


def test_only_right_after_the_question(services: Services, rasa: ScriptedRasa) -> None:
    phone = Phone(services)
    phone.text("hello there")
    phone.text("Ana Ruiz")
    assert sent_to_rasa(rasa) == ["hello there", "Ana Ruiz"]
    assert phone.conversation.private_answer is None


def test_an_emergency_instead_of_the_name_gets_911_and_is_not_kept(services: Services, rasa: ScriptedRasa) -> None:
    phone = Phone(services)
    phone.text("sign me up")
    reply, handed_off = phone.text("someone is breaking into my house right now")
    assert "911" in reply and "MENU" in handed_off  # and the flag hands the conversation to staff
    assert phone.conversation.private_answer is None


@pytest.mark.parametrize("text,name", [
    ("Ana Ruiz", "Ana Ruiz"), ("my name is Ana", "Ana"), ("me llamo José Núñez", "José Núñez"),
    ("I'm O'Brien-Smith.", "O'Brien-Smith"), ("soy Ana", "Ana"),
    ("i want to know about the citizen academy please", None), ("call me at 5035550100", None), ("", None),
    ("🙂", None),
])
def test_what_reads_as_a_name(text: str, name: str | None) -> None:
    assert name_from(text) == name

from __future__ import annotations

import pytest

from bot.rasa_client import RasaBrokenReply, RasaClient, RasaUnavailable, parse_turn
from bot.sms import Button
from tests.fakes.broken_rasa import BrokenRasa

META = {"recipient_id": "x", "custom": {"nlu": {"intent": "greet", "confidence": 0.97, "language": "en"}}}


def test_parse_turn_extracts_messages_buttons_and_nlu() -> None:
    turn = parse_turn([META, {"recipient_id": "x", "text": "Hi!"},
                       {"recipient_id": "x", "text": "Pick one", "buttons": [{"title": "Meetings", "payload": "/list_meetings"}]}])
    assert turn.intent == "greet" and turn.confidence == pytest.approx(0.97)
    assert [m.text for m in turn.messages] == ["Hi!", "Pick one"]
    assert turn.messages[1].buttons == (Button("Meetings", "/list_meetings"),)


@pytest.mark.parametrize("body", [[], None, {}, "x", [{"text": "hello"}]])
def test_an_empty_or_unproven_answer_is_a_failure(body: object) -> None:
    """Rasa answers 200 [] when it is broken; without our NLU metadata the turn did not really run."""
    with pytest.raises(RasaBrokenReply):
        parse_turn(body)


def test_empty_list_from_a_running_server_is_broken() -> None:
    server = BrokenRasa().start()
    try:
        with pytest.raises(RasaBrokenReply):
            RasaClient(server.url, timeout=2).turn("sms-abc", "hi", {"language": "en"})
        assert server.calls == 1
    finally:
        server.stop()


def test_closed_port_is_unavailable() -> None:
    with pytest.raises(RasaUnavailable):
        RasaClient("http://127.0.0.1:9", timeout=1).turn("sms-abc", "hi", {})


def test_parse_sends_the_api_token_and_a_wrong_one_is_unavailable() -> None:
    from tests.fakes.scripted_rasa import ScriptedRasa

    rasa = ScriptedRasa(parse=lambda text: ("faq", 0.91), token="s3cret").start()
    try:
        assert RasaClient(rasa.url, token="s3cret").parse("what is neighborhood watch?") == ("faq", 0.91)
        with pytest.raises(RasaUnavailable, match="401"):
            RasaClient(rasa.url, token="wrong").parse("what is neighborhood watch?")
    finally:
        rasa.stop()

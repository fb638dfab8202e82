"""The two-stage fallback's first stage and the FAQ topic picker, run as rasa_sdk runs them."""
from __future__ import annotations

import asyncio
import json

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import NOT_OFFERED, ActionAnswerTopic, ActionSuggestIntents, menu_labels
from bot.settings import ROOT

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def _latest(ranking: list[tuple[str, float]], topic: str | None = None) -> dict:  # type: ignore[type-arg]
    latest = {"text": "hmm", "intent": {"name": "nlu_fallback", "confidence": 0.4},
              "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.4}]
              + [{"name": n, "confidence": c} for n, c in ranking], "entities": []}
    if topic:
        latest["response_selector"] = {"faq": {"response": {"intent_response_key": f"faq/{topic}"}}}
    return latest


def _run(action, latest: dict, language: str = "en") -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    tracker = Tracker("web-abc", {"language": language}, latest, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return dispatcher.messages


def test_offers_the_top_two_guesses_and_something_else() -> None:
    [message] = _run(ActionSuggestIntents(), _latest([("report_incident", 0.35), ("check_report_status", 0.2),
                                                      ("list_meetings", 0.05)]))
    assert message["response"] == "utter_did_you_mean"
    assert [(b["title"], b["payload"]) for b in message["buttons"]] == [
        ("Report a problem", "/report_incident"),
        ("Check a report's status", "/check_report_status"),
        ("Something else", "/help"),
    ]


def test_a_faq_guess_is_offered_as_its_topic_in_the_residents_language() -> None:
    [message] = _run(ActionSuggestIntents(), _latest([("faq", 0.38), ("greet", 0.3), ("signup_meeting", 0.15)],
                                                     topic="ride_along"), language="es")
    titles = [b["title"] for b in message["buttons"]]
    assert titles == ["Acompañar a una patrulla", "Inscribirme en una reunión", "Otra cosa"]
    payload = message["buttons"][0]["payload"]
    assert payload.startswith("/choose_topic") and json.loads(payload[len("/choose_topic"):]) == {"topic": "ride_along"}


def test_small_talk_and_noise_are_never_offered() -> None:
    [message] = _run(ActionSuggestIntents(), _latest([("greet", 0.5), ("out_of_scope", 0.3), ("thank", 0.1),
                                                      ("list_meetings", 0.05)]))
    assert message["response"] == "utter_fallback_menu"
    assert "buttons" not in message or not message["buttons"]


def test_every_offerable_intent_and_faq_topic_has_a_label_in_both_languages() -> None:
    intents = [i for i in DOMAIN["intents"] if i not in NOT_OFFERED | {"faq"}]
    topics = [r[len("utter_"):] for r in DOMAIN["responses"] if r.startswith("utter_faq/")]
    for language in ("en", "es"):
        labels = menu_labels(DOMAIN, language)
        missing = [k for k in intents + topics + ["something_else"] if not labels.get(k)]
        assert not missing, (language, missing)
        # A button title must read as one short menu line on a phone.
        assert max(len(v) for v in labels.values()) <= 40
    assert menu_labels(DOMAIN, "es")["report_incident"] != menu_labels(DOMAIN, "en")["report_incident"]


def test_picked_topic_is_answered_and_an_unknown_one_gets_the_menu() -> None:
    picked = {"text": '/choose_topic{"topic": "ride_along"}', "intent": {"name": "choose_topic", "confidence": 1.0},
              "entities": [{"entity": "topic", "value": "ride_along"}]}
    assert _run(ActionAnswerTopic(), picked)[0]["response"] == "utter_faq/ride_along"
    bogus = {**picked, "entities": [{"entity": "topic", "value": "../../etc"}]}
    assert _run(ActionAnswerTopic(), bogus)[0]["response"] == "utter_help"

"""The first stage of the two-stage fallback: "Did you mean ...?" with the best guesses.

When NLU is not confident (intent `nlu_fallback`), `action_suggest_intents` offers the top one
or two guesses as buttons (a numbered menu on SMS) plus "Something else". A second miss in a
row gets `utter_fallback_menu` (what the assistant can do, and a person) by rule.

Guesses come from the intent ranking of the message; a guessed FAQ intent is offered as its
topic (from the response selector), answered by `action_answer_topic`. Button titles live in
domain.yml, response `utter_menu_labels` (a `custom` label table per language).
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.responses import custom_table

LABELS_RESPONSE = "utter_menu_labels"
# Guesses below this confidence are noise, not worth a menu line.
MIN_GUESS_CONFIDENCE = 0.1
MAX_GUESSES = 2
# Never offered as a guess: nothing to do, or only from buttons and the pipeline.
NOT_OFFERED = {"nlu_fallback", "out_of_scope", "greet", "goodbye", "thank", "affirm", "deny",
               "change_language", "choose_topic", "leave_form", "inform_name",
               "confirm_unregister", "keep_signup", "send_photo"}


def menu_labels(domain: Dict[Text, Any], language: Optional[Text]) -> Dict[Text, Text]:
    """The label table of utter_menu_labels for a language (the unconditioned one otherwise)."""
    return custom_table(domain.get("responses") or {}, LABELS_RESPONSE, language)


def _faq_topic(latest: Dict[Text, Any]) -> Optional[Text]:
    selector = (latest.get("response_selector") or {}).get("faq") or {}
    key = (selector.get("response") or {}).get("intent_response_key")
    return key.split("/", 1)[1] if key and "/" in key else None


def guesses(latest: Dict[Text, Any], labels: Dict[Text, Text]) -> List[Dict[Text, Text]]:
    """Buttons for the best guesses of the latest message, best first, each with a label."""
    buttons: List[Dict[Text, Text]] = []
    for ranked in latest.get("intent_ranking") or []:
        name, confidence = ranked.get("name"), ranked.get("confidence") or 0.0
        if len(buttons) == MAX_GUESSES or confidence < MIN_GUESS_CONFIDENCE:
            break
        if name in NOT_OFFERED:
            continue
        if name == "faq":
            topic = _faq_topic(latest)
            if topic and f"faq/{topic}" in labels:
                buttons.append({"title": labels[f"faq/{topic}"],
                                "payload": "/choose_topic" + json.dumps({"topic": topic})})
        elif name in labels:
            buttons.append({"title": labels[name], "payload": f"/{name}"})
    return buttons


def ask_what_they_meant(dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> None:
    """"Did you mean ...?" with the latest message's best guesses and "Something else"."""
    labels = menu_labels(domain, tracker.get_slot("language"))
    buttons = guesses(tracker.latest_message or {}, labels)
    if not buttons:
        # Nothing plausible to offer: the menu of everything is the better answer.
        dispatcher.utter_message(response="utter_fallback_menu")
        return
    buttons.append({"title": labels.get("something_else", "Something else"), "payload": "/help"})
    dispatcher.utter_message(response="utter_did_you_mean", buttons=buttons)


class ActionSuggestIntents(Action):
    def name(self) -> Text:
        return "action_suggest_intents"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        ask_what_they_meant(dispatcher, tracker, domain)
        return []


class ActionAnswerTopic(Action):
    """Answers the FAQ topic a resident picked from a "Did you mean" menu."""

    def name(self) -> Text:
        return "action_answer_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        topic = next(tracker.get_latest_entity_values("topic"), None)
        response = f"utter_faq/{topic}"
        if topic and response in (domain.get("responses") or {}):
            dispatcher.utter_message(response=response)
        else:
            dispatcher.utter_message(response="utter_help")
        return []

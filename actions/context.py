"""Keeps the conversation's context slots current on every turn.

Rasa runs `action_validate_slot_mappings` after each user message, before it predicts
the next action. We use it to:
- set `language` from the pipeline's metadata (bot/language.py decides, so the choice is
  the same for every channel and stable over a conversation);
- fill the `dept_*` slots from department.yml, so every response states the department's
  facts from one file;
- report the NLU result (intent, confidence) back to the pipeline in a `custom` message,
  which also proves that the turn really ran (Rasa answers [] when it is broken).
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.department import DepartmentProfile, load_profile
from bot.rasa_client import NLU_META_KEY
from bot.settings import Settings


def _default_profile() -> DepartmentProfile:
    return load_profile(str(Settings.from_env().department_profile))


class ActionValidateSlotMappings(Action):
    def __init__(self, profile_loader: Callable[[], DepartmentProfile] | None = None) -> None:
        self._profile_loader = profile_loader or _default_profile

    def name(self) -> Text:
        return "action_validate_slot_mappings"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        profile = self._profile_loader()
        latest = tracker.latest_message or {}
        metadata = latest.get("metadata") or {}
        language = metadata.get("language")
        if language not in profile.languages:
            language = tracker.get_slot("language") or profile.languages[0]

        wanted: Dict[Text, Any] = {"language": language, **profile.slot_values(language)}
        events: List[EventType] = [
            SlotSet(name, value) for name, value in wanted.items() if tracker.get_slot(name) != value
        ]
        intent = latest.get("intent") or {}
        dispatcher.utter_message(json_message={NLU_META_KEY: {
            "intent": intent.get("name"),
            "confidence": intent.get("confidence"),
            "language": language,
        }})
        return events

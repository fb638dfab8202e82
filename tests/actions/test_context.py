"""action_validate_slot_mappings, run as rasa_sdk runs it."""
from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.context import ActionValidateSlotMappings
from bot.department import DepartmentProfile
from bot.settings import ROOT

PROFILE = DepartmentProfile.load(ROOT / "department.yml")


def _tracker(slots: dict, metadata: dict) -> Tracker:  # type: ignore[type-arg]
    latest = {"text": "hola", "intent": {"name": "greet", "confidence": 0.91}, "entities": [],
              "metadata": metadata}
    return Tracker("sms-abc", slots, latest, [], False, None, {}, "action_listen")


def _run(action: ActionValidateSlotMappings, tracker: Tracker) -> tuple[list, CollectingDispatcher]:  # type: ignore[type-arg]
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return events, dispatcher


def test_sets_language_from_metadata_and_every_department_slot() -> None:
    events, dispatcher = _run(ActionValidateSlotMappings(lambda: PROFILE), _tracker({}, {"language": "es"}))
    slots = {e["name"]: e["value"] for e in events}
    assert slots["language"] == "es"
    assert slots["dept_phone"] == PROFILE.non_emergency_phone
    assert slots["dept_hours"] == PROFILE.hours["es"]
    assert slots["dept_text911"] is PROFILE.text_to_911


def test_only_changed_slots_are_set_again() -> None:
    current = {"language": "en", **PROFILE.slot_values("en")}
    events, _ = _run(ActionValidateSlotMappings(lambda: PROFILE), _tracker(current, {"language": "en"}))
    assert events == []
    events, _ = _run(ActionValidateSlotMappings(lambda: PROFILE), _tracker(current, {"language": "es"}))
    assert {e["name"] for e in events} == {"language", "dept_hours"}


def test_reports_nlu_result_for_the_transcript() -> None:
    _, dispatcher = _run(ActionValidateSlotMappings(lambda: PROFILE), _tracker({}, {"language": "en"}))
    assert dispatcher.messages[-1]["custom"]["nlu"] == {"intent": "greet", "confidence": 0.91, "language": "en"}


def test_unknown_language_keeps_the_current_one() -> None:
    events, _ = _run(ActionValidateSlotMappings(lambda: PROFILE), _tracker({"language": "es"}, {"language": "fr"}))
    assert "language" not in {e["name"] for e in events}

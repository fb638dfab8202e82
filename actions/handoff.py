"""Handing a conversation to a person ("Talk to a person", issue #6).

`action_request_human` opens a handoff in the staff queue and tells the resident whether
someone is in now or when staff reply. From then on the pipeline routes the resident's
messages to staff until either side ends it ("menu" goes back to the assistant). A form in
progress ends here: its next question would reach staff, not the resident's assistant.

When the handoff cannot be opened (no stored conversation, database down) the resident still
gets a way to a person: the station's phone and hours (`utter_request_human`).
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.reports import REPORT_FORM_SLOTS
from actions.signup_form import FORM_SLOTS as SIGNUP_FORM_SLOTS
from actions.signup_form import reset_events
from bot.handoff.service import HandoffService
from bot.storage.models import Conversation, HandoffReason

log = logging.getLogger(__name__)

# What the assistant does when it did not understand: a request for a person right after one
# of these is a handoff because of a fallback (staff see the assistant failed), not a choice.
FALLBACK_ACTIONS = frozenset({"action_suggest_intents", "utter_fallback_menu"})
# Bookkeeping actions that run on every turn: never "the previous thing the assistant did".
NOT_BOT_TURNS = frozenset({"action_listen", "action_extract_slots", "action_validate_slot_mappings"})

ConversationLookup = Callable[[str], Optional[Conversation]]


def default_handoffs() -> HandoffService:
    from bot.services import get_services  # resolved on first use, never at import

    return get_services().handoffs


def default_conversation_lookup(sender_id: str) -> Optional[Conversation]:
    from bot.services import get_services  # resolved on first use, never at import

    return get_services().conversations.for_rasa_sender(sender_id)


def previous_bot_action(tracker: Tracker) -> Optional[Text]:
    """The last action the assistant took before this turn (this action is not logged yet)."""
    for event in reversed(tracker.events or []):
        if event.get("event") == "action" and event.get("name") not in NOT_BOT_TURNS:
            return str(event.get("name"))
    return None


def handoff_reason(tracker: Tracker) -> str:
    return HandoffReason.FALLBACK if previous_bot_action(tracker) in FALLBACK_ACTIONS else HandoffReason.REQUESTED


def end_form_events(tracker: Tracker) -> List[EventType]:
    """Ends the active form, if any, and forgets every form's answers (as "never mind" does)."""
    events: List[EventType] = []
    if tracker.active_loop_name:
        events += [ActiveLoop(None), SlotSet("requested_slot", None)]
    return events + reset_events(tracker, SIGNUP_FORM_SLOTS + REPORT_FORM_SLOTS)


class ActionRequestHuman(Action):
    def __init__(self, handoffs: Callable[[], HandoffService] | None = None,
                 conversations: ConversationLookup | None = None) -> None:
        self._handoffs_factory = handoffs or default_handoffs
        self._lookup = conversations or default_conversation_lookup

    def name(self) -> Text:
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response=self._open(tracker))
        return end_form_events(tracker)

    def _open(self, tracker: Tracker) -> Text:
        """The response to send: staff in now, staff out now, or (no handoff) call the station."""
        try:
            conversation = self._lookup(tracker.sender_id)
            if conversation is None:
                log.warning("no conversation for this sender: the resident is told to call the station")
                return "utter_request_human"
            handoffs = self._handoffs_factory()
            reason = handoff_reason(tracker)
            handoffs.start(conversation.id, reason)
            return "utter_handoff_started" if handoffs.staffed_now() else "utter_handoff_started_closed"
        except Exception as exc:  # a resident asking for a person must always get a way to one
            # The type only: a database error's text can quote the query's values.
            log.warning("handoff not opened (%s): the resident is told to call the station", type(exc).__name__)
            return "utter_request_human"

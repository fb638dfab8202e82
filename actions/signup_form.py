"""The meeting sign-up form: which meeting, name, party size, reminders, then a summary to confirm.

- `action_start_signup` runs before the form: it clears the last sign-up's answers and fills
  the meeting when the message already named it (a list button, "the next town hall").
- `validate_signup_meeting_form` extracts and checks each answer. Answers are read only for
  the slot being asked; a question in the middle gets its answer by rule and the form resumes.
- The resident's name never enters Rasa: when the form asks for it, the pipeline keeps the
  reply in the database and sends Rasa `/inform_name` instead (see bot/private_answers.py).
- `action_submit_signup` takes the seat (or a waitlist place) and gives the reference code.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.meetings import (
    MeetingAction, calendar_words, default_service, entity_values, filter_from_slot, signup_payload, word,
)
from actions.reports import REPORT_FORM_SLOTS
from bot.meetings.filters import fold
from bot.meetings.service import MeetingService
from bot.meetings.store import MAX_PARTY_SIZE, MeetingFilter, SignupOutcome
from bot.meetings.wording import meeting_line, meeting_values
from bot.private_answers import PRIVATE_NAME_INTENT, PRIVATE_NAME_MARKER, QUESTION_CONFIDENCE, QUESTION_INTENTS

FORM_SLOTS = ("meeting_id", "signup_name", "party_size", "signup_reminders", "signup_confirmed", "signup_misses",
              "meeting_label")
NO_MATCH = "none"
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7,
    "ocho": 8, "nueve": 9, "diez": 10,
}
JUST_ME = ("just me", "only me", "me alone", "myself", "solo yo", "nomas yo", "yo solo", "yo sola", "solamente yo")
ME_AND = re.compile(r"\b(me and|me plus|my wife and me|yo y|mi esposa y yo|mi esposo y yo)\b")
YES_WORDS = {"yes", "y", "yeah", "yep", "yup", "sure", "ok", "okay", "si", "claro", "dale", "please", "correct"}
NO_WORDS = {"no", "n", "nope", "nah", "not", "no gracias"}


def is_interruption(tracker: Tracker) -> bool:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name") in QUESTION_INTENTS and (intent.get("confidence") or 0.0) >= QUESTION_CONFIDENCE


def latest_text(tracker: Tracker) -> Text:
    return ((tracker.latest_message or {}).get("text") or "").strip()


def party_size_from(text: Text) -> Optional[int]:
    folded = fold(text)
    if any(phrase in folded for phrase in JUST_ME):
        return 1
    digits = re.search(r"\b(\d{1,3})\b", folded)
    if digits:
        return int(digits.group(1))
    for token in folded.split():
        if token in NUMBER_WORDS:
            return NUMBER_WORDS[token]
    if ME_AND.search(folded):
        return 2
    return None


def yes_no(tracker: Tracker) -> Optional[bool]:
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    words = fold(latest_text(tracker)).split()
    if words and words[0] in YES_WORDS:
        return True
    if words and words[0] in NO_WORDS:
        return False
    return None


def reset_events(tracker: Tracker, names: tuple[str, ...] = FORM_SLOTS) -> List[EventType]:
    """Clears the form's answers (only those set: a SlotSet, even of None, is validated again)."""
    return [SlotSet(name, None) for name in names if tracker.get_slot(name) is not None]


def find_meeting(service: MeetingService, tracker: Tracker) -> Optional[int]:
    """The meeting a message names: a list button, a type ("the next town hall"), or title words."""
    for value in entity_values(tracker, "meeting_id"):
        if value.isdigit() and service.meetings.get(int(value)) is not None:
            return int(value)
    kinds = entity_values(tracker, "meeting_type")
    if kinds:
        of_kind = service.meetings.upcoming(MeetingFilter(kinds=tuple(kinds)), limit=1)
        if of_kind:
            return of_kind[0].id
    words = {w for w in fold(latest_text(tracker)).split() if len(w) > 3}
    if not words:
        return None
    best, best_score = None, 0
    for meeting in service.meetings.upcoming(limit=200):
        score = len(words & {w for w in fold(meeting.title).split() if len(w) > 3})
        if score > best_score:
            best, best_score = meeting.id, score
    return best if best_score >= 2 else None


class ActionStartSignup(MeetingAction, Action):
    def name(self) -> Text:
        return "action_start_signup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        events = reset_events(tracker)
        meeting_id = find_meeting(self.service, tracker)
        if meeting_id is not None:
            events.append(SlotSet("meeting_id", str(meeting_id)))
        return events


class ActionAskMeetingId(MeetingAction, Action):
    """The question for `meeting_id`: the next meetings as buttons (a numbered menu on SMS)."""

    def name(self) -> Text:
        return "action_ask_meeting_id"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        service = self.service
        wanted = filter_from_slot(tracker.get_slot("meeting_filter"))
        shown = service.meetings.upcoming(wanted, limit=service.page_size) or \
            service.meetings.upcoming(limit=service.page_size)
        if not shown:
            dispatcher.utter_message(response="utter_no_meetings")
            return []
        words = calendar_words(domain, tracker.get_slot("language"))
        dispatcher.utter_message(response="utter_ask_meeting_id", buttons=[
            {"title": meeting_line(m, words), "payload": signup_payload(m.id)} for m in shown])
        return []


class ActionAskSignupName(MeetingAction, Action):
    """Asks for the name and tells the pipeline to keep the answer out of Rasa."""

    def name(self) -> Text:
        return "action_ask_signup_name"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_ask_signup_name")
        dispatcher.utter_message(json_message={"expect": PRIVATE_NAME_MARKER})
        return []


class ActionAskSignupConfirmed(MeetingAction, Action):
    """The summary before anything is saved."""

    def name(self) -> Text:
        return "action_ask_signup_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        service = self.service
        language = tracker.get_slot("language")
        meeting_id = tracker.get_slot("meeting_id")
        meeting = service.meetings.get(int(meeting_id)) if meeting_id and meeting_id.isdigit() else None
        if meeting is None:
            dispatcher.utter_message(response="utter_meeting_gone")
            return [SlotSet("meeting_id", None)]
        response = "utter_ask_signup_confirmed" if service.signups.has_room(
            meeting, int(tracker.get_slot("party_size") or 1)) else "utter_ask_waitlist_confirmed"
        reminders = tracker.get_slot("signup_reminders")
        dispatcher.utter_message(
            response=response, **meeting_values(meeting, calendar_words(domain, language)),
            party_size=int(tracker.get_slot("party_size") or 1),
            reminders_note=word(domain, language, "reminders_on" if reminders else "reminders_off", ""),
            buttons=[{"title": word(domain, language, "yes", "Yes"), "payload": "/affirm"},
                     {"title": word(domain, language, "no", "No"), "payload": "/deny"}])
        return []


class ValidateSignupMeetingForm(FormValidationAction):
    def __init__(self, service: Any = None) -> None:
        super().__init__()
        self._service_factory = service or default_service

    def name(self) -> Text:
        return "validate_signup_meeting_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: Dict[Text, Any]) -> List[Text]:
        slots = list(domain_slots)
        if not tracker.sender_id.startswith("sms-") and "signup_reminders" in slots:
            slots.remove("signup_reminders")  # reminders are texts: only asked on SMS
        return slots

    def _asked(self, tracker: Tracker, slot: Text) -> bool:
        return tracker.get_slot("requested_slot") == slot

    # -- extraction: only the slot being asked, never from a question ---------------------

    async def extract_meeting_id(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: Dict[Text, Any]) -> Dict[Text, Any]:
        asked = self._asked(tracker, "meeting_id")
        if not asked and not entity_values(tracker, "meeting_id"):
            return {}  # runs on every form turn: no lookups unless this turn can name a meeting
        chosen = find_meeting(self._service_factory(), tracker)
        if chosen is not None:
            return {"meeting_id": str(chosen)}
        if asked and not is_interruption(tracker):
            return {"meeting_id": NO_MATCH}
        return {}

    async def extract_signup_name(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: Dict[Text, Any]) -> Dict[Text, Any]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if not self._asked(tracker, "signup_name"):
            return {}
        if intent == PRIVATE_NAME_INTENT:
            return {"signup_name": PRIVATE_NAME_MARKER}
        if not latest_text(tracker).startswith("/") and (intent == "report_incident" or not is_interruption(tracker)):
            # Not a name (the pipeline kept nothing: "there is graffiti on the wall"): the name is
            # asked again, naming the meeting, instead of the form giving up on the turn. A question
            # is left to the rules, which answer it and come back to the form.
            return {"signup_name": None}
        return {}

    async def extract_party_size(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: Dict[Text, Any]) -> Dict[Text, Any]:
        if not self._asked(tracker, "party_size") or is_interruption(tracker):
            return {}
        size = party_size_from(latest_text(tracker))
        return {"party_size": float(size) if size is not None else 0.0}

    async def extract_signup_reminders(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: Dict[Text, Any]) -> Dict[Text, Any]:
        if not self._asked(tracker, "signup_reminders") or is_interruption(tracker):
            return {}
        answer = yes_no(tracker)
        return {} if answer is None else {"signup_reminders": answer}

    async def extract_signup_confirmed(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: Dict[Text, Any]) -> Dict[Text, Any]:
        if not self._asked(tracker, "signup_confirmed") or is_interruption(tracker):
            return {}
        answer = yes_no(tracker)
        return {} if answer is None else {"signup_confirmed": answer}

    # -- validation ------------------------------------------------------------------

    def validate_meeting_id(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: Dict[Text, Any]) -> Dict[Text, Any]:
        if value is None:  # cleared, not answered
            return {"meeting_id": None}
        service = self._service_factory()
        meeting = service.meetings.get(int(value)) if str(value).isdigit() else None
        if meeting is None or meeting.status != "scheduled" or meeting.starts_at <= service.clock.now():
            misses = int(tracker.get_slot("signup_misses") or 0) + 1
            dispatcher.utter_message(response="utter_meeting_not_found" if misses < 2 else "utter_meeting_not_found_again")
            return {"meeting_id": None, "signup_misses": float(misses)}
        values = meeting_values(meeting, calendar_words(domain, tracker.get_slot("language")))
        if not service.signups.has_room(meeting):
            dispatcher.utter_message(response="utter_meeting_full", **values)
        # the next questions name the meeting: a resident who asked something in between knows
        # what they are still answering for
        return {"meeting_id": str(meeting.id), "meeting_label": f"{values['meeting_title']}, {values['meeting_when']}"}

    def validate_party_size(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: Dict[Text, Any]) -> Dict[Text, Any]:
        if value is None:
            return {"party_size": None}
        size = int(value)
        if 1 <= size <= MAX_PARTY_SIZE:
            return {"party_size": float(size)}
        dispatcher.utter_message(response="utter_party_size_invalid", max_party=MAX_PARTY_SIZE)
        return {"party_size": None}


class ActionSubmitSignup(MeetingAction, Action):
    def name(self) -> Text:
        return "action_submit_signup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        if not tracker.get_slot("signup_confirmed"):
            dispatcher.utter_message(response="utter_signup_not_saved")
            return reset_events(tracker)
        service = self.service
        conversation = service.conversation_for(tracker.sender_id)
        meeting_id = tracker.get_slot("meeting_id")
        if conversation is None or not (meeting_id and str(meeting_id).isdigit()):
            dispatcher.utter_message(response="utter_meeting_gone")
            return reset_events(tracker)
        name = service.conversations.take_private_answer(conversation.id) or "-"
        result = service.signups.register(
            int(meeting_id), conversation.id, name, int(tracker.get_slot("party_size") or 1),
            bool(tracker.get_slot("signup_reminders")),
        )
        meeting = service.meetings.get(int(meeting_id))
        if result.outcome is SignupOutcome.UNAVAILABLE or meeting is None or result.signup is None:
            dispatcher.utter_message(response="utter_meeting_gone")
            return reset_events(tracker)
        response = {
            SignupOutcome.REGISTERED: "utter_signed_up",
            SignupOutcome.WAITLISTED: "utter_waitlisted",
            SignupOutcome.ALREADY: "utter_already_signed_up",
        }.get(result.outcome, "utter_meeting_gone")
        dispatcher.utter_message(
            response=response, code=result.signup.code, calendar_link=service.calendar_link(meeting.id),
            **meeting_values(meeting, calendar_words(domain, tracker.get_slot("language"))))
        return reset_events(tracker)


class ActionLeaveForm(MeetingAction, Action):
    """After "never mind" in any form: nothing saved, answers forgotten."""

    def name(self) -> Text:
        return "action_leave_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        conversation = self.service.conversation_for(tracker.sender_id)
        if conversation is not None:
            self.service.conversations.take_private_answer(conversation.id)
        dispatcher.utter_message(response="utter_form_left")
        return reset_events(tracker, FORM_SLOTS + REPORT_FORM_SLOTS)

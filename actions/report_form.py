"""The non-emergency report form: type, where, when, what happened, photos (SMS), anonymous or
not, follow-up texts (SMS), then a summary to confirm.

- `action_start_report` clears the last report's answers and fills what the first message
  already said ("graffiti on the wall behind 5th and main": type and place). A story that does
  not name its type gets it from bot/reports/kinds.py ("they sprayed big letters on my fence":
  graffiti); a message that reads as no report at all ends the form at once.
- `validate_report_incident_form` reads each answer for the slot being asked. At the summary,
  "no, it was on 6th street" corrects the place (or the type, or the time) and asks again.
- A place or topic outside the department's ends the form with the right agency's contact
  (slot `incident_outside`, which also ends it for a message that is no report).
- Suspicious activity: the form asks what the person did, not what they look like; a second
  appearance-only answer is kept for staff review (bot/reports/review.py).
- `action_submit_report` stores the report (bot/reports/service.py) and gives the reference.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.reports import (
    REPORT_FORM_SLOTS, ReportAction, default_report_service, report_words, type_label, yes_no_buttons,
)
from actions.fallback import ask_what_they_meant
from actions.signup_form import latest_text, yes_no
from bot.meetings.filters import fold
from bot.private_answers import QUESTION_CONFIDENCE
from bot.reports.kinds import OTHER_TYPE, REPORT_TYPES
from bot.reports.places import Place
from bot.reports.review import TYPES_CHECKED, appearance_only
from bot.reports.service import ReportDraft, ReportService
from bot.reports.times import When

FORM = "report_incident_form"
NO_MATCH = "none"
UNKNOWN_TIME = "unknown"
# Intents that mean "that was not my answer" while the form asks something. report_incident is
# not one: "graffiti on the wall behind 5th" answers the form's questions.
INTERRUPTIONS = frozenset({
    "faq", "help", "request_human", "bot_challenge", "leave_form", "check_report_status",
    "change_language", "list_meetings", "signup_meeting", "my_signups",
})
# A description is free text: only a clear request to stop or talk to someone breaks it. The
# worker's safety screen has already answered anything that reads like danger, before NLU (and
# added its 911/988 line to this answer when the danger is only possible).
DESCRIPTION_BREAKS = frozenset({"help", "request_human", "bot_challenge", "leave_form"})
CORRECTION = re.compile(r"^(?:no|nope|actually|wait|sorry|correction|i meant|not|perdon|en realidad|no fue|fue)\b")
DONT_KNOW = re.compile(r"\b(?:(?:i )?(?:do ?n[o']?t|dont) know|idk|not sure|no idea|no se|ni idea|no estoy segur[oa])\b")
SKIP_PHOTO = re.compile(r"\b(?:skip|no photos?|no pics?|no pictures?|none|sin fotos?|no tengo|saltar)\b")
MIN_DESCRIPTION_WORDS = 2


def intent_of(tracker: Tracker) -> tuple[Optional[Text], float]:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def breaks_off(tracker: Tracker, intents: frozenset[str] = INTERRUPTIONS) -> bool:
    name, confidence = intent_of(tracker)
    if latest_text(tracker).startswith("/"):
        return name in intents
    return name in intents and confidence >= QUESTION_CONFIDENCE


def reset_events(tracker: Tracker) -> List[EventType]:
    return [SlotSet(name, None) for name in REPORT_FORM_SLOTS if tracker.get_slot(name) is not None]


def type_from(tracker: Tracker) -> Optional[Text]:
    for value in tracker.get_latest_entity_values("report_type"):
        if str(value) in REPORT_TYPES:
            return str(value)
    return None


def place_slot(place: Place) -> Text:
    return json.dumps(place.as_dict(), sort_keys=True)


def place_of(tracker: Tracker) -> Optional[Place]:
    stored = tracker.get_slot("incident_place")
    if not stored or stored == NO_MATCH:
        return None
    try:
        return Place.from_dict(json.loads(stored))
    except (ValueError, TypeError):
        return None


def when_of(tracker: Tracker) -> Optional[When]:
    stored = tracker.get_slot("incident_when")
    if not stored or stored in (NO_MATCH, UNKNOWN_TIME):
        return None
    try:
        return When.from_dict(json.loads(stored))
    except (ValueError, TypeError, KeyError):
        return None


def is_sms(tracker: Tracker) -> bool:
    return tracker.sender_id.startswith("sms-")


def started_at(tracker: Tracker, service: ReportService) -> datetime:
    """When this report's form started (pictures sent since then belong to it)."""
    stored = tracker.get_slot("incident_started")
    try:
        return datetime.fromisoformat(stored) if stored else service.clock.now()
    except ValueError:
        return service.clock.now()


class ActionStartReport(ReportAction, Action):
    def name(self) -> Text:
        return "action_start_report"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        service = self.service
        events = reset_events(tracker)
        events.append(SlotSet("incident_started", service.clock.now().isoformat()))
        text = latest_text(tracker)
        agency = service.area.agency_for_topic(text) if not text.startswith("/") else None
        if agency is not None:  # "a pothole on Main St": not the police's
            dispatcher.utter_message(response="utter_report_other_agency", agency=agency.name,
                                     agency_phone=agency.phone)
            return events + [SlotSet("incident_outside", True)]
        named = type_from(tracker)
        if named is None and not text.startswith("/") and not service.reads_as_report(text):
            # The NLU took it for a report; the words do not read as one ("is the light rail late
            # today?"): "Did you mean" with its guesses is the confirmation, and the form ends.
            ask_what_they_meant(dispatcher, tracker, domain)
            return events + [SlotSet("incident_outside", True)]
        kind = service.kind_from(text, named)  # the words name it, or the story tells it
        if kind:
            events.append(SlotSet("incident_type", kind))
        if not text.startswith("/"):
            place = service.place_from(text)
            if place is not None:
                events.append(SlotSet("incident_place", place_slot(place)))
            when = service.when_from(text, tracker.get_slot("language"))
            if when is not None:
                events.append(SlotSet("incident_when", json.dumps(when.as_dict())))
        conversation = service.conversation_for(tracker.sender_id)
        if conversation is not None and is_sms(tracker):
            waiting = service.photos_waiting(conversation.id, service.clock.now())
            if waiting:
                events.append(SlotSet("incident_photos", float(waiting)))
        return events


class ActionAskIncidentType(ReportAction, Action):
    """The report types as buttons (a numbered menu on SMS)."""

    def name(self) -> Text:
        return "action_ask_incident_type"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        words = report_words(domain, tracker.get_slot("language"))
        again = bool(tracker.get_slot("incident_misses"))
        dispatcher.utter_message(response="utter_incident_type_not_understood" if again else "utter_ask_incident_type",
                                 buttons=[
            {"title": type_label(words, kind), "payload": "/report_incident" + json.dumps({"report_type": kind})}
            for kind in REPORT_TYPES])
        return []


class ActionAskIncidentPlace(ReportAction, Action):
    """Where; after an answer it could not read, the question says how to answer instead."""

    def name(self) -> Text:
        return "action_ask_incident_place"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_incident_place_not_understood" if tracker.get_slot("incident_misses")
                                 else "utter_ask_incident_place")
        return []


class ActionAskIncidentWhen(ReportAction, Action):
    def name(self) -> Text:
        return "action_ask_incident_when"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_incident_when_not_understood" if tracker.get_slot("incident_misses")
                                 else "utter_ask_incident_when")
        return []


class ActionAskIncidentDescription(ReportAction, Action):
    """Suspicious activity asks for behaviour, not looks (and once more after looks only)."""

    def name(self) -> Text:
        return "action_ask_incident_description"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        if tracker.get_slot("incident_nudged"):
            response = "utter_incident_description_behaviour"
        elif tracker.get_slot("incident_misses"):
            response = "utter_incident_description_short"
        elif tracker.get_slot("incident_type") in TYPES_CHECKED:
            response = "utter_ask_incident_description_behaviour"
        else:
            response = "utter_ask_incident_description"
        dispatcher.utter_message(response=response)
        return []


class ActionAskIncidentPhotos(ReportAction, Action):
    def name(self) -> Text:
        return "action_ask_incident_photos"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        words = report_words(domain, tracker.get_slot("language"))
        dispatcher.utter_message(response="utter_ask_incident_photos",
                                 buttons=[{"title": str(words.get("no_photo", "No photo")), "payload": "/deny"}])
        return []


class ActionAskIncidentAnonymous(ReportAction, Action):
    def name(self) -> Text:
        return "action_ask_incident_anonymous"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        words = report_words(domain, tracker.get_slot("language"))
        dispatcher.utter_message(response="utter_ask_incident_anonymous", buttons=[
            {"title": str(words.get("stay_anonymous", "Stay anonymous")), "payload": "/affirm"},
            {"title": str(words.get("share_contact", "You can contact me")), "payload": "/deny"}])
        return []


class ActionAskIncidentFollowUp(ReportAction, Action):
    def name(self) -> Text:
        return "action_ask_incident_follow_up"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_ask_incident_follow_up",
                                 buttons=yes_no_buttons(report_words(domain, tracker.get_slot("language"))))
        return []


class ActionAskIncidentConfirmed(ReportAction, Action):
    """The summary before anything is saved."""

    def name(self) -> Text:
        return "action_ask_incident_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        service = self.service
        language = tracker.get_slot("language")
        words = report_words(domain, language)
        place = place_of(tracker)
        when = when_of(tracker)
        description = " ".join(str(tracker.get_slot("incident_description") or "").split())
        if len(description) > 60:
            description = description[:57].rstrip() + "..."
        photos = 0
        conversation = service.conversation_for(tracker.sender_id)
        if conversation is not None and is_sms(tracker):
            photos = service.photos_waiting(conversation.id, started_at(tracker, service))
        notes = []
        if photos:
            notes.append(str(words.get("photos", "Photos: {count}.")).format(count=photos))
        notes.append(str(words.get("anonymous" if tracker.get_slot("incident_anonymous") or not is_sms(tracker)
                                   else "with_contact", "")))
        dispatcher.utter_message(
            response="utter_ask_incident_confirmed", report_type=type_label(words, tracker.get_slot("incident_type")),
            place=place.text if place else "-",
            when=service.describe_when(when, language) if when else str(words.get("time_unknown", "time unknown")),
            description=description, notes=" ".join(n for n in notes if n),
            buttons=yes_no_buttons(words))
        return []


class ValidateReportIncidentForm(FormValidationAction):
    def __init__(self, service: Any = None) -> None:
        super().__init__()
        self._service_factory = service or default_report_service

    def name(self) -> Text:
        return "validate_report_incident_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: Dict[Text, Any]) -> List[Text]:
        if tracker.get_slot("incident_outside"):
            return []  # another agency's: the form ends, nothing is saved
        slots = list(domain_slots)
        if not is_sms(tracker):
            # Pictures come by MMS; web residents have no number to be contacted on.
            for slot in ("incident_photos", "incident_anonymous", "incident_follow_up"):
                if slot in slots:
                    slots.remove(slot)
        elif tracker.get_slot("incident_anonymous") and "incident_follow_up" in slots:
            slots.remove("incident_follow_up")
        return slots

    def _asked(self, tracker: Tracker, slot: Text) -> bool:
        return tracker.get_slot("requested_slot") == slot

    def _correcting(self, tracker: Tracker) -> bool:
        """At the summary, or a message that starts like a correction ("no, it was...")."""
        if tracker.get_slot("requested_slot") == "incident_confirmed":
            return True
        return bool(CORRECTION.match(fold(latest_text(tracker))))

    # -- extraction: the slot being asked, or a correction -------------------------------

    async def extract_incident_type(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: Dict[Text, Any]) -> Dict[Text, Any]:
        kind = type_from(tracker)
        if self._asked(tracker, "incident_type"):
            if kind is None and breaks_off(tracker):
                # "never mind", a question: left to the rules, never read as a story's type (the
                # classifier gives "never mind" 'other' at 0.30 given a report, 0.80 no report).
                return {}
            kind = kind or self._service_factory().kind_from(latest_text(tracker))
            return {"incident_type": kind or NO_MATCH}
        if kind and tracker.get_slot("incident_type") and kind != tracker.get_slot("incident_type") \
                and self._correcting(tracker):
            return {"incident_type": kind, "incident_confirmed": None}
        return {}

    async def extract_incident_place(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: Dict[Text, Any]) -> Dict[Text, Any]:
        text = latest_text(tracker)
        if text.startswith("/"):
            return {}
        if self._asked(tracker, "incident_place"):
            if breaks_off(tracker):
                return {}
            place = self._service_factory().place_from(text)
            if place is None and int(tracker.get_slot("incident_misses") or 0) >= 1 and len(text.split()) >= 2:
                place = Place("landmark", " ".join(text.split())[:200])  # staff read it as the resident wrote it
            return {"incident_place": place_slot(place) if place else NO_MATCH}
        if tracker.get_slot("incident_place") and self._correcting(tracker):
            place = self._service_factory().place_from(text)
            if place is not None and place_slot(place) != tracker.get_slot("incident_place"):
                return {"incident_place": place_slot(place), "incident_confirmed": None}
        return {}

    async def extract_incident_when(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: Dict[Text, Any]) -> Dict[Text, Any]:
        text = latest_text(tracker)
        if text.startswith("/"):
            return {}
        service = self._service_factory()
        if self._asked(tracker, "incident_when"):
            if breaks_off(tracker):
                return {}
            when = service.when_from(text, tracker.get_slot("language"))
            if when is not None:
                return {"incident_when": json.dumps(when.as_dict())}
            if DONT_KNOW.search(fold(text)) or int(tracker.get_slot("incident_misses") or 0) >= 1:
                return {"incident_when": UNKNOWN_TIME}
            return {"incident_when": NO_MATCH}
        if tracker.get_slot("incident_when") is None and tracker.get_slot("requested_slot") in (
                "incident_place", "incident_description") and not breaks_off(tracker):
            when = service.when_from(text, tracker.get_slot("language"))  # "on 5th and main last night"
            return {"incident_when": json.dumps(when.as_dict())} if when is not None else {}
        if tracker.get_slot("incident_when") and self._correcting(tracker):
            when = service.when_from(text, tracker.get_slot("language"))
            if when is not None and json.dumps(when.as_dict()) != tracker.get_slot("incident_when"):
                return {"incident_when": json.dumps(when.as_dict()), "incident_confirmed": None}
        return {}

    async def extract_incident_description(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                           domain: Dict[Text, Any]) -> Dict[Text, Any]:
        text = latest_text(tracker)
        if not self._asked(tracker, "incident_description") or text.startswith("/"):
            return {}
        if breaks_off(tracker, DESCRIPTION_BREAKS):
            return {}
        return {"incident_description": " ".join(text.split())}

    async def extract_incident_photos(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: Dict[Text, Any]) -> Dict[Text, Any]:
        if not self._asked(tracker, "incident_photos"):
            return {}
        service = self._service_factory()
        conversation = service.conversation_for(tracker.sender_id)
        waiting = service.photos_waiting(conversation.id, started_at(tracker, service)) if conversation else 0
        if waiting:
            return {"incident_photos": float(waiting)}
        if yes_no(tracker) is False or SKIP_PHOTO.search(fold(latest_text(tracker))):
            return {"incident_photos": 0.0}
        if breaks_off(tracker):
            return {}
        return {"incident_photos": 0.0}  # pictures sent later, before the summary, still count

    async def extract_incident_anonymous(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                         domain: Dict[Text, Any]) -> Dict[Text, Any]:
        if not self._asked(tracker, "incident_anonymous") or breaks_off(tracker):
            return {}
        folded = fold(latest_text(tracker))
        if re.search(r"\b(?:anonym\w*|anonim\w*)\b", folded) and not re.search(r"\b(?:not|no)\b", folded):
            return {"incident_anonymous": True}
        answer = yes_no(tracker)
        return {} if answer is None else {"incident_anonymous": answer}

    async def extract_incident_follow_up(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                         domain: Dict[Text, Any]) -> Dict[Text, Any]:
        if not self._asked(tracker, "incident_follow_up") or breaks_off(tracker):
            return {}
        answer = yes_no(tracker)
        return {} if answer is None else {"incident_follow_up": answer}

    async def extract_incident_confirmed(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                         domain: Dict[Text, Any]) -> Dict[Text, Any]:
        if not self._asked(tracker, "incident_confirmed") or breaks_off(tracker):
            return {}
        service = self._service_factory()
        text = latest_text(tracker)
        if not text.startswith("/"):  # "no, it was on 6th street": a correction, not a no
            kind = type_from(tracker)
            place = service.place_from(text)
            when = service.when_from(text, tracker.get_slot("language"))
            if kind or place is not None or when is not None:
                return {}  # the other extractors take the new answer; the summary is asked again
        answer = yes_no(tracker)
        return {} if answer is None else {"incident_confirmed": answer}

    # -- validation ----------------------------------------------------------------------

    def _miss(self, tracker: Tracker, slot: Text) -> Dict[Text, Any]:
        """Not understood: the slot's question is asked again, worded as a hint (action_ask_*)."""
        return {slot: None, "incident_misses": float(int(tracker.get_slot("incident_misses") or 0) + 1)}

    def validate_incident_type(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: Dict[Text, Any]) -> Dict[Text, Any]:
        if value is None or value in REPORT_TYPES:
            return {"incident_type": value, "incident_misses": None}
        if int(tracker.get_slot("incident_misses") or 0) >= 1:
            return {"incident_type": OTHER_TYPE, "incident_misses": None}  # the description will say
        return self._miss(tracker, "incident_type")

    def validate_incident_place(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: Dict[Text, Any]) -> Dict[Text, Any]:
        if value is None:
            return {"incident_place": None}
        if value == NO_MATCH:
            return self._miss(tracker, "incident_place")
        try:
            place = Place.from_dict(json.loads(value))
        except (ValueError, TypeError):
            return self._miss(tracker, "incident_place")
        verdict = self._service_factory().check_place(place)
        if verdict.inside is False:
            if verdict.agency is not None:
                dispatcher.utter_message(response="utter_report_other_agency", agency=verdict.agency.name,
                                         agency_phone=verdict.agency.phone)
            else:
                dispatcher.utter_message(response="utter_report_outside_area", place=place.text)
            return {"incident_place": value, "incident_outside": True}
        return {"incident_place": value, "incident_misses": None}

    def validate_incident_when(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: Dict[Text, Any]) -> Dict[Text, Any]:
        if value == NO_MATCH:
            return self._miss(tracker, "incident_when")
        return {"incident_when": value, "incident_misses": None}

    def validate_incident_description(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: Dict[Text, Any]) -> Dict[Text, Any]:
        if value is None:
            return {"incident_description": None}
        text = str(value)
        if len(text.split()) < MIN_DESCRIPTION_WORDS and not tracker.get_slot("incident_misses"):
            return self._miss(tracker, "incident_description")
        if tracker.get_slot("incident_type") in TYPES_CHECKED and appearance_only(text) \
                and not tracker.get_slot("incident_nudged"):
            return {"incident_description": None, "incident_nudged": True}  # asked again, for behaviour
        return {"incident_description": text, "incident_misses": None}


class ActionSubmitReport(ReportAction, Action):
    def name(self) -> Text:
        return "action_submit_report"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        if tracker.get_slot("incident_outside"):
            return reset_events(tracker)  # the other agency's contact was given already
        if not tracker.get_slot("incident_confirmed"):
            dispatcher.utter_message(response="utter_report_not_saved")
            return reset_events(tracker)
        service = self.service
        conversation = service.conversation_for(tracker.sender_id)
        place = place_of(tracker)
        if conversation is None or place is None or tracker.get_slot("incident_type") not in REPORT_TYPES:
            dispatcher.utter_message(response="utter_report_not_saved")
            return reset_events(tracker)
        sms = is_sms(tracker)
        anonymous = bool(tracker.get_slot("incident_anonymous")) or not sms
        report = service.file(conversation.id, ReportDraft(
            report_type=str(tracker.get_slot("incident_type")), place=place,
            description=str(tracker.get_slot("incident_description") or ""), when=when_of(tracker),
            anonymous=anonymous, follow_up=sms and not anonymous and bool(tracker.get_slot("incident_follow_up")),
            started_at=started_at(tracker, service)))
        dispatcher.utter_message(response="utter_report_held" if report.review_reason else "utter_report_filed",
                                 reference=report.reference)
        return reset_events(tracker)

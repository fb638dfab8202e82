"""Finding meetings, listing a resident's sign-ups, and dropping one.

Lists are buttons: the web widget shows them as buttons, SMS as a numbered menu ("reply 2"),
whose payloads start the sign-up form with the meeting already chosen. Words come from
domain.yml; department data (meetings, sign-ups) from bot/ through MeetingService.
"""
from __future__ import annotations

import json
from dataclasses import asdict
import re
from typing import Any, Callable, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.meetings.filters import meeting_filter
from bot.meetings.service import MeetingService
from bot.meetings.store import MeetingFilter
from bot.meetings.wording import (
    WORDS_RESPONSE, CalendarWords, meeting_line, meeting_values, short_title, when_text,
)
from bot.responses import custom_table
from bot.storage.models import Meeting, Signup, SignupStatus

# A text lists the soonest few sign-ups (2 SMS segments); the rest show as they come closer.
MAX_LISTED_SIGNUPS = 3
_CODE = re.compile(r"\bM-?([2-9A-HJ-NP-Z]{4})\b", re.IGNORECASE)


def default_service() -> MeetingService:
    from bot.services import get_services  # resolved on first use, never at import

    return get_services().meeting_service


class MeetingAction:
    """Mixin: an injectable MeetingService (a test database in tests, the real one otherwise)."""

    def __init__(self, service: Callable[[], MeetingService] | None = None) -> None:
        self._service_factory = service or default_service

    @property
    def service(self) -> MeetingService:
        return self._service_factory()

    def held_signups(self, tracker: Tracker) -> List[Tuple[Signup, Meeting]]:
        """This resident's upcoming sign-ups (none when the conversation is unknown)."""
        service = self.service
        conversation = service.conversation_for(tracker.sender_id)
        return service.signups.upcoming_for(conversation.id) if conversation else []


def calendar_words(domain: Dict[Text, Any], language: Optional[Text]) -> CalendarWords:
    return CalendarWords.from_table(custom_table(domain.get("responses") or {}, WORDS_RESPONSE, language))


def word(domain: Dict[Text, Any], language: Optional[Text], key: Text, default: Text) -> Text:
    return str(custom_table(domain.get("responses") or {}, WORDS_RESPONSE, language).get(key) or default)


def entity_values(tracker: Tracker, name: Text) -> List[Text]:
    return [str(v) for v in tracker.get_latest_entity_values(name) if v is not None]


def signup_payload(meeting_id: int) -> Text:
    return "/signup_meeting" + json.dumps({"meeting_id": str(meeting_id)})


def filter_to_slot(wanted: MeetingFilter) -> Text:
    data = {k: v for k, v in asdict(wanted).items() if v}
    return json.dumps({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()})


def filter_from_slot(stored: Optional[Text]) -> MeetingFilter:
    from datetime import datetime

    try:
        data = json.loads(stored or "{}")
        for key in ("starts_after", "starts_before"):
            if data.get(key):
                data[key] = datetime.fromisoformat(data[key])
        data["kinds"] = tuple(data.get("kinds") or ())
        return MeetingFilter(**data)
    except (ValueError, TypeError):
        return MeetingFilter()


class ActionListMeetings(MeetingAction, Action):
    """Upcoming meetings matching what the resident asked, a page at a time."""

    def name(self) -> Text:
        return "action_list_meetings"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        service = self.service
        language = tracker.get_slot("language")
        pages = entity_values(tracker, "meeting_page")
        page = int(pages[0]) if pages and pages[0].isdigit() else 1
        if page > 1:
            wanted = filter_from_slot(tracker.get_slot("meeting_filter"))
        else:
            latest = tracker.latest_message or {}
            zipcodes = entity_values(tracker, "zipcode")
            languages = entity_values(tracker, "language")
            wanted = meeting_filter(
                latest.get("text") or "", entity_values(tracker, "meeting_type"),
                zipcodes[0] if zipcodes else None, languages[0] if languages else None,
                service.meetings.neighborhoods(), service.clock.now(), service.timezone,
            )
        size = max(1, service.page_size)
        found = service.meetings.upcoming(wanted, limit=page * size + 1)
        shown = found[(page - 1) * size: page * size]
        events: List[EventType] = [SlotSet("meeting_filter", filter_to_slot(wanted))]
        if not shown:
            if page > 1:
                dispatcher.utter_message(response="utter_no_more_meetings")
            elif wanted.is_empty():
                dispatcher.utter_message(response="utter_no_meetings")
            else:
                dispatcher.utter_message(response="utter_no_meetings_match", buttons=[
                    {"title": word(domain, language, "all_meetings", "All meetings"), "payload": "/list_meetings"}])
            return events
        words = calendar_words(domain, language)
        buttons = [{"title": meeting_line(m, words), "payload": signup_payload(m.id)} for m in shown]
        if len(found) > page * size:
            buttons.append({"title": word(domain, language, "more", "More"),
                            "payload": "/list_meetings" + json.dumps({"meeting_page": str(page + 1)})})
        dispatcher.utter_message(response="utter_meetings_list", buttons=buttons)
        return events


class ActionListSignups(MeetingAction, Action):
    """`my_signups`: what this resident is registered (or waitlisted) for."""

    def name(self) -> Text:
        return "action_list_signups"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        held = self.held_signups(tracker)
        if not held:
            dispatcher.utter_message(response="utter_no_signups")
            return []
        language = tracker.get_slot("language")
        words = calendar_words(domain, language)
        waitlisted = word(domain, language, "waitlisted", "waitlist")
        lines = []
        for signup, meeting in held[:MAX_LISTED_SIGNUPS]:
            note = f", {waitlisted}" if signup.status == SignupStatus.WAITLISTED else ""
            lines.append(f"{when_text(meeting, words)} {short_title(meeting)} ({signup.code}{note})")
        dispatcher.utter_message(response="utter_signups_list", signup_lines="\n".join(lines), buttons=[
            {"title": word(domain, language, "drop_one", "Drop a sign-up"), "payload": "/unregister_meeting"}])
        return []


class ActionUnregisterMeeting(MeetingAction, Action):
    """`unregister_meeting`: which sign-up (asks when several), then a yes/no confirmation."""

    def name(self) -> Text:
        return "action_unregister_meeting"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        held = self.held_signups(tracker)
        if not held:
            dispatcher.utter_message(response="utter_no_signups")
            return []
        language = tracker.get_slot("language")
        words = calendar_words(domain, language)
        chosen = self._choose(tracker, held)
        if chosen is None:
            buttons = [{"title": meeting_line(meeting, words),
                        "payload": "/unregister_meeting" + json.dumps({"signup_code": signup.code})}
                       for signup, meeting in held]
            dispatcher.utter_message(response="utter_ask_which_signup", buttons=buttons)
            return []
        signup, meeting = chosen
        dispatcher.utter_message(
            response="utter_confirm_unregister", **meeting_values(meeting, words),
            buttons=[
                {"title": word(domain, language, "yes", "Yes"),
                 "payload": "/confirm_unregister" + json.dumps({"signup_code": signup.code})},
                {"title": word(domain, language, "no", "No"), "payload": "/keep_signup"},
            ])
        return []

    @staticmethod
    def _choose(tracker: Tracker, held: List[Any]) -> Optional[Any]:
        codes = entity_values(tracker, "signup_code")
        text = (tracker.latest_message or {}).get("text") or ""
        typed = _CODE.search(text)
        if typed:
            codes.append("M-" + typed.group(1).upper())
        for code in codes:
            for signup, meeting in held:
                if signup.code == code.upper():
                    return signup, meeting
        kinds = set(entity_values(tracker, "meeting_type"))
        if kinds:
            of_kind = [(s, m) for s, m in held if m.kind in kinds]
            if len(of_kind) == 1:
                return of_kind[0]
        return held[0] if len(held) == 1 else None


class ActionConfirmUnregister(MeetingAction, Action):
    """Drops the confirmed sign-up; a freed seat goes to the waitlist (told by the notice sweep)."""

    def name(self) -> Text:
        return "action_confirm_unregister"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        service = self.service
        conversation = service.conversation_for(tracker.sender_id)
        codes = entity_values(tracker, "signup_code")
        signup = service.signups.by_code(codes[0]) if codes else None
        if conversation is None or signup is None:
            dispatcher.utter_message(response="utter_no_signups")
            return []
        result = service.signups.cancel(signup.id, conversation.id)
        meeting = service.meetings.get(signup.meeting_id)
        if result.signup is None or meeting is None:
            dispatcher.utter_message(response="utter_no_signups")
            return []
        words = calendar_words(domain, tracker.get_slot("language"))
        dispatcher.utter_message(response="utter_unregistered", **meeting_values(meeting, words))
        return []

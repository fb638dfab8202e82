"""Non-emergency reports: what the report actions share, and checking on a report.

"status R-1042" gives that report's status, only to the conversation that filed it; "what
happened with my graffiti report" gives the resident's recent reports (of that type, if
named). Words (types, statuses) come from domain.yml's `utter_report_words` table.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.reports.service import ReportService
from bot.reports.store import normalize_reference
from bot.responses import custom_table
from bot.storage.models import Report

WORDS_RESPONSE = "utter_report_words"
# The report form's slots (actions/report_form.py); "never mind" clears them too.
REPORT_FORM_SLOTS = ("incident_type", "incident_place", "incident_when", "incident_description", "incident_photos",
                     "incident_anonymous", "incident_follow_up", "incident_confirmed", "incident_started",
                     "incident_nudged", "incident_misses", "incident_outside")
MAX_LISTED_REPORTS = 3
MAX_NOTES_CHARS = 120
_REFERENCE = re.compile(r"\bR-?\s?(\d{4,})\b", re.IGNORECASE)


def default_report_service() -> ReportService:
    from bot.services import get_services  # resolved on first use, never at import

    return get_services().report_service


class ReportAction:
    """Mixin: an injectable ReportService (a test database in tests, the real one otherwise)."""

    def __init__(self, service: Callable[[], ReportService] | None = None) -> None:
        self._service_factory = service or default_report_service

    @property
    def service(self) -> ReportService:
        return self._service_factory()


def report_words(domain: Dict[Text, Any], language: Optional[Text]) -> Dict[Text, Any]:
    return custom_table(domain.get("responses") or {}, WORDS_RESPONSE, language)


def type_label(words: Dict[Text, Any], kind: Optional[Text]) -> Text:
    return str((words.get("types") or {}).get(kind or "", kind or "-"))


def status_label(words: Dict[Text, Any], status: Text) -> Text:
    return str((words.get("statuses") or {}).get(status, status))


def yes_no_buttons(words: Dict[Text, Any]) -> List[Dict[Text, Text]]:
    return [{"title": str(words.get("yes", "Yes")), "payload": "/affirm"},
            {"title": str(words.get("no", "No")), "payload": "/deny"}]


def short_notes(notes: Optional[Text]) -> Text:
    text = " ".join((notes or "").split())
    return text if len(text) <= MAX_NOTES_CHARS else text[:MAX_NOTES_CHARS - 3].rstrip() + "..."


def reference_in(tracker: Tracker) -> Optional[Text]:
    for value in tracker.get_latest_entity_values("reference"):
        normalized = normalize_reference(str(value))
        if normalized:
            return normalized
    match = _REFERENCE.search((tracker.latest_message or {}).get("text") or "")
    return f"R-{match.group(1)}" if match else None


def report_line(report: Report, words: Dict[Text, Any]) -> Text:
    """"R-1042 Graffiti, Main St & 5th Ave: received" (notes follow when there are any)."""
    line = f"{report.reference} {type_label(words, report.report_type)}"
    if report.place_text:
        line += f", {report.place_text[:40]}"
    line += f": {status_label(words, report.status)}."
    notes = short_notes(report.status_notes)
    return f"{line} {notes}" if notes else line


class ActionCheckReportStatus(ReportAction, Action):
    def name(self) -> Text:
        return "action_check_report_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        service = self.service
        words = report_words(domain, tracker.get_slot("language"))
        conversation = service.conversation_for(tracker.sender_id)
        reference = reference_in(tracker)
        if conversation is None:
            dispatcher.utter_message(response="utter_no_reports")
            return []
        if reference:
            report = service.find(conversation.id, reference)
            if report is None:  # someone else's, or no such report: the same answer either way
                dispatcher.utter_message(response="utter_report_not_found", reference=reference)
            else:
                dispatcher.utter_message(response="utter_report_status", status_line=report_line(report, words))
            return []
        reports = service.recent(conversation.id, limit=10)
        kinds = {str(v) for v in tracker.get_latest_entity_values("report_type")}
        if kinds:
            reports = [r for r in reports if r.report_type in kinds] or reports
        if not reports:
            dispatcher.utter_message(response="utter_no_reports")
            return []
        lines = "\n".join(report_line(r, words) for r in reports[:MAX_LISTED_REPORTS])
        dispatcher.utter_message(response="utter_report_status_list", status_lines=lines)
        return []

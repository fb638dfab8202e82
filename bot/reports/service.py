"""What the report actions need, in one object: filing a report, a resident's own look-ups,
and the place and time readers, with the department's area and timezone.

Filing always stores the report here first (the reference comes from our database, so the
resident gets one even when the department's system is down). When a department system
takes reports (Open311), the report is queued in the same transaction and the forwarder
sends it (bot/reports/forwarding.py); held-for-review reports wait for staff.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from bot.clock import Clock
from bot.reports.kinds import ReportKinds
from bot.reports.media import MediaIntake
from bot.reports.places import AreaVerdict, Place, ServiceArea, parse_place
from bot.reports.review import review_reason
from bot.reports.store import ReportStore
from bot.reports.times import When, parse_when
from bot.storage.conversations import ConversationStore
from bot.storage.models import Conversation, Report

# Pictures sent this long before the report form started still belong to the report
# (a resident often sends the picture first, then says what it is).
PHOTO_LEAD = timedelta(minutes=30)
MAX_DESCRIPTION_CHARS = 1000
# The story's type wins over a type the entity extractor found in a few words ("my back gate was
# torn off... nothing taken": vandalism, though "taken" reads as theft) only when this sure.
OVERRULE_CONFIDENCE = 0.7


@dataclass(frozen=True)
class ReportDraft:
    """A finished form's answers."""

    report_type: str
    place: Place
    description: str
    when: When | None = None
    anonymous: bool = False
    follow_up: bool = False
    started_at: datetime | None = None  # when the form started (UTC): pictures since then are attached


@dataclass
class ReportService:
    reports: ReportStore
    conversations: ConversationStore
    area: ServiceArea
    clock: Clock
    timezone: str
    forwards: bool = False  # a department system takes reports (the outbox forwards them)
    media: MediaIntake | None = None
    # Called with a report held for staff review (the handoff queue shows it to staff).
    on_held: Callable[[Report], None] | None = None
    # Reads the type of a story that does not name it (bot/reports/kinds.py), built on first use.
    kinds: Callable[[], ReportKinds] | None = None

    def conversation_for(self, rasa_sender_id: str) -> Conversation | None:
        return self.conversations.for_rasa_sender(rasa_sender_id)

    # -- reading a resident's words ----------------------------------------------------

    def kind_from(self, text: str, named: str | None = None) -> str | None:
        """The report type: the one the words name (`named`, Rasa's entity), unless the whole story
        clearly tells another; else the one the story tells when the classifier is sure; else None
        (the form asks)."""
        reading = self.kinds().read(text) if self.kinds is not None else None
        if reading is None or not reading.sure:
            return named
        if named is None or (reading.kind != named and reading.confidence >= OVERRULE_CONFIDENCE):
            return reading.kind
        return named

    def reads_as_report(self, text: str) -> bool:
        """False when the words read as no report at all (bot/reports/kinds.py)."""
        reading = self.kinds().read(text) if self.kinds is not None else None
        return reading is None or reading.is_report

    def place_from(self, text: str) -> Place | None:
        return parse_place(text)

    def check_place(self, place: Place) -> AreaVerdict:
        return self.area.check(place)

    def when_from(self, text: str, language: str | None = None) -> When | None:
        return parse_when(text, self.clock.now(), self.timezone, language)

    def describe_when(self, when: When, language: str | None) -> str:
        return when.describe(self.timezone, language or "en")

    # -- photos ------------------------------------------------------------------------

    def photos_waiting(self, conversation_id: int, started_at: datetime | None) -> int:
        if self.media is None:
            return 0
        return self.media.waiting(conversation_id, self._photo_window(started_at))

    def _photo_window(self, started_at: datetime | None) -> datetime:
        start = started_at or self.clock.now()
        return start - PHOTO_LEAD

    # -- filing ------------------------------------------------------------------------

    def file(self, conversation_id: int, draft: ReportDraft) -> Report:
        """Store the report (and queue it for the department system); pictures the resident
        sent since the form started go with it."""
        description = " ".join(draft.description.split())[:MAX_DESCRIPTION_CHARS]
        occurred_at = None
        if draft.when is not None:
            occurred_at = draft.when.at.astimezone(timezone.utc).replace(tzinfo=None)
        report = self.reports.create(
            conversation_id, draft.report_type, description, place_text=draft.place.text,
            place_json=draft.place.as_dict(), occurred_at=occurred_at,
            occurred_text=draft.when.text[:200] if draft.when else None,
            follow_up_consent=draft.follow_up and not draft.anonymous, anonymous=draft.anonymous,
            review_reason=review_reason(draft.report_type, description),
        )
        if self.media is not None:
            self.media.attach(conversation_id, report.id, self._photo_window(draft.started_at))
        if self.forwards and report.review_reason is None:
            self.reports.enqueue(report.id)  # after the pictures: the forwarder sends them too
        if report.review_reason is not None and self.on_held is not None:
            self.on_held(report)
        return report

    def find(self, conversation_id: int, reference: str) -> Report | None:
        return self.reports.get_by_reference(reference, conversation_id)

    def recent(self, conversation_id: int, limit: int = 3) -> list[Report]:
        return self.reports.recent_for(conversation_id, limit)

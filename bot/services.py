"""Builds the assistant's parts from Settings, lazily, once per process.

Both the webhook and the workers use this; tests build their own with test settings.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import logging
from datetime import timedelta

import redis
from rq import Queue

from bot.chat_notices import ChatNotifier
from bot.clock import Clock, SystemClock
from bot.department import DepartmentProfile
from bot.meetings.notices import NoticeRules, NoticeSweep, notice_values
from bot.meetings.service import MeetingService
from bot.meetings.store import MeetingStore, SignupStore
from bot.meetings.wording import WORDS_RESPONSE
from bot.meetings.notices import in_quiet_hours
from bot.reports.forwarding import ClosedReportNotices, ReportForwarder, ReportStatusPoll
from bot.reports.media import MediaIntake
from bot.reports.open311 import Open311Client, Open311Config
from bot.reports.photo_links import PhotoLinks
from bot.reports.photos import LocalPhotoStore, PhotoFetcher, PhotoStore
from bot.reports.places import ServiceArea
from bot.reports.service import ReportService
from bot.reports.systems import DepartmentSystem, LocalSystem, Open311System
from bot.reports.store import ReportStore
from bot.guards import Deduplicator, RateLimiter
from bot.handoff.service import HandoffService, QueueSignal
from bot.handoff.store import HandoffStore
from bot.staff.accounts import StaffAccountStore
from bot.staff.audit import Action, AuditLog
from bot.staff.notes import NoteStore
from bot.staff.retention import Retention
from bot.staff.search import ConversationSearch
from bot.staff.sessions import SessionStore
from bot.outbound import DevOutboxGateway, OutboundService, SendError, SmsGateway, TwilioConfig, TwilioGateway
from bot.pipeline import ConversationPipeline, PipelineConfig
from bot.rasa_client import RasaClient
from bot.responses import ResponseCatalog
from bot.safety import SafetyScreen, Thresholds
from bot.reports.kinds import ReportKinds, process_kinds
from bot.safety_signal import process_signal
from bot.settings import ROOT, Settings
from bot.storage.consent import ConsentStore
from bot.storage.conversations import ConversationStore
from bot.storage.database import Database
from bot.storage.messages import MessageStore
from bot.storage.models import Conversation, Handoff, HandoffReason, Meeting, Report, Signup


@dataclass
class Services:
    settings: Settings
    clock: Clock

    @cached_property
    def db(self) -> Database:
        return Database(self.settings.database_url)

    @cached_property
    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.settings.redis_url, socket_timeout=5, socket_connect_timeout=3,
                                    health_check_interval=30)

    @cached_property
    def queue(self) -> Queue:
        return Queue(self.settings.queue_name, connection=self.redis)

    @cached_property
    def profile(self) -> DepartmentProfile:
        return DepartmentProfile.load(self.settings.department_profile)

    @cached_property
    def catalog(self) -> ResponseCatalog:
        return ResponseCatalog.load(self.settings.domain_path)

    @cached_property
    def conversations(self) -> ConversationStore:
        return ConversationStore(self.db, self.clock)

    @cached_property
    def messages(self) -> MessageStore:
        return MessageStore(self.db, self.clock)

    @cached_property
    def consent(self) -> ConsentStore:
        return ConsentStore(self.db, self.clock)

    @cached_property
    def meeting_service(self) -> MeetingService:
        return MeetingService(
            MeetingStore(self.db, self.clock), SignupStore(self.db, self.clock), self.conversations,
            self.clock, self.profile.timezone, self.settings.meetings_page_size, self.settings.public_url,
        )

    @cached_property
    def report_store(self) -> ReportStore:
        return ReportStore(self.db, self.clock)

    @cached_property
    def photo_store(self) -> PhotoStore:
        return LocalPhotoStore.from_settings(self.settings)

    @cached_property
    def media(self) -> MediaIntake:
        return MediaIntake(self.db, self.clock, PhotoFetcher.from_settings(self.settings), self.photo_store)

    @cached_property
    def report_service(self) -> ReportService:
        def held(report: Report) -> None:
            self.handoffs.start(report.conversation_id, HandoffReason.REPORT_REVIEW, report.id)

        return ReportService(self.report_store, self.conversations, ServiceArea.from_profile(self.profile),
                             self.clock, self.profile.timezone, forwards=self.report_system.forwards,
                             media=self.media, on_held=held,
                             kinds=lambda: self.report_kinds)

    @cached_property
    def report_kinds(self) -> ReportKinds:
        """Built on first use (an action server that never files a report never loads it), once: its
        data's fingerprint is read here, not on every message."""
        return process_kinds(ROOT / "data", self.settings.report_kinds_model)

    @cached_property
    def photo_links(self) -> PhotoLinks:
        return PhotoLinks(self.settings.sender_id_key, self.settings.public_url)

    @cached_property
    def report_system(self) -> DepartmentSystem:
        """Open311 when OPEN311_BASE_URL is set; otherwise reports stay in our database."""
        if not self.settings.open311_enabled:
            return LocalSystem()

        def contact(report: Report) -> str | None:
            conversation = self.conversations.get(report.conversation_id)
            return conversation.address if conversation.channel == "sms" else None

        return Open311System(Open311Client(Open311Config.from_settings(self.settings)), self.photo_links.url,
                             contact, clock=self.clock, timezone=self.profile.timezone,
                             attributes=self.settings.open311_attributes)

    def _report_text(self, report: Report, response: str, values: dict[str, str]) -> None:
        conversation = self.conversations.get(report.conversation_id)
        language = conversation.language or self.profile.languages[0]
        types = self.catalog.custom("utter_report_words", language).get("types") or {}
        self.pipeline.reply_with(conversation, response, language, author="system", values={
            "reference": report.reference, "report_type": str(types.get(report.report_type, report.report_type)),
            **values})

    def _can_text(self, report: Report) -> bool:
        conversation = self.conversations.get(report.conversation_id)
        return conversation.channel != "sms" or not self.consent.is_opted_out(conversation.address_hash)

    @cached_property
    def report_forwarder(self) -> ReportForwarder:
        def rejected(report: Report) -> None:
            if self._can_text(report):
                self._report_text(report, "utter_report_rejected", {})

        return ReportForwarder(self.report_store, self.report_system, self.clock, on_rejected=rejected)

    @cached_property
    def report_status_poll(self) -> ReportStatusPoll:
        return ReportStatusPoll(self.report_store, self.report_system, self.clock)

    @cached_property
    def closed_report_notices(self) -> ClosedReportNotices:
        def send(report: Report) -> None:
            notes = " ".join((report.status_notes or "").split())
            self._report_text(report, "utter_report_closed", {"notes": notes[:120]})

        def quiet() -> bool:
            return in_quiet_hours(self.clock.now(), self.settings.quiet_hours, self.profile.timezone)

        return ClosedReportNotices(self.report_store, send, self._can_text, quiet)

    @cached_property
    def notice_sweep(self) -> NoticeSweep:
        def send(conversation: Conversation, response: str, meeting: Meeting, signup: Signup) -> None:
            language = conversation.language or self.profile.languages[0]
            words = self.catalog.custom(WORDS_RESPONSE, language)
            self.pipeline.reply_with(conversation, response, language, author="system",
                                     values=notice_values(meeting, signup, words))

        def opted_out(conversation: Conversation) -> bool:
            return conversation.channel == "sms" and self.consent.is_opted_out(conversation.address_hash)

        rules = NoticeRules(self.settings.meeting_reminder_minutes, self.settings.quiet_hours, self.profile.timezone)
        return NoticeSweep(self.db, self.clock, rules, send, opted_out)

    @cached_property
    def dedupe(self) -> Deduplicator:
        return Deduplicator(self.redis, self.settings.dedupe_ttl_seconds)

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        return RateLimiter(self.redis, self.settings.rate_limit_count, self.settings.rate_limit_window_seconds)

    @cached_property
    def chat_notifier(self) -> ChatNotifier:
        return ChatNotifier(self.redis)

    @cached_property
    def safety(self) -> SafetyScreen:
        """The rules and the learned signal. Without training data (a trimmed image), the rules
        alone: they never need a model, and the signal only adds to them."""
        s = self.settings
        data_dir = ROOT / "data"
        if not (data_dir / "safety").is_dir():
            logging.getLogger(__name__).warning("no data/safety: the safety screen runs on its rules alone")
            return SafetyScreen()
        return SafetyScreen(process_signal(data_dir, s.safety_model), Thresholds.load(s.safety_thresholds))

    @cached_property
    def gateway(self) -> SmsGateway:
        s = self.settings
        if not s.twilio_enabled:
            return DevOutboxGateway()
        callback = f"{s.public_base_url}/sms/status" if s.public_base_url else None
        return TwilioGateway(TwilioConfig(
            account_sid=s.twilio_account_sid or "", auth_token=s.twilio_auth_token or "",
            from_number=s.twilio_from_number, messaging_service_sid=s.twilio_messaging_service_sid,
            status_callback=callback, api_base_url=s.twilio_api_base_url,
        ))

    @cached_property
    def outbound(self) -> OutboundService:
        from bot.jobs import schedule_outbound_retry

        return OutboundService(
            self.messages, self.consent, self.gateway,
            schedule_retry=lambda message_id, attempt: schedule_outbound_retry(self, message_id, attempt),
            max_chars=self.settings.max_body_chars,
            on_web_message=lambda conversation_id: self.chat_notifier.notify(conversation_id),
        )

    @cached_property
    def rasa(self) -> RasaClient:
        return RasaClient(self.settings.rasa_url, timeout=self.settings.rasa_timeout, token=self.settings.rasa_token)

    @cached_property
    def pipeline(self) -> ConversationPipeline:
        return ConversationPipeline(
            PipelineConfig(sender_key=self.settings.sender_id_key,
                           max_turn_attempts=self.settings.max_turn_attempts),
            self.profile, self.conversations, self.messages, self.consent, self.safety,
            self.rasa, self.catalog, self.outbound, self.media, self.handoffs, self.db.transaction,
        )

    # -- handoff and the staff console ---------------------------------------------------

    @cached_property
    def handoff_store(self) -> HandoffStore:
        return HandoffStore(self.db, self.clock)

    @cached_property
    def handoffs(self) -> HandoffService:
        return HandoffService(self.handoff_store, QueueSignal(self.redis), self.clock, self.profile.staff_hours,
                              self.profile.timezone, on_urgent=self._page_on_call)

    def _page_on_call(self, handoff: Handoff) -> None:
        """HANDOFF_ONCALL_NUMBER hears of a new safety handoff: the reason and a link, nothing
        the resident said, no number. Sent straight through the gateway (it is not a resident
        conversation); a failure is logged and audited, never retried into the resident's turn."""
        number = self.settings.handoff_oncall_number
        if not number:
            return
        text = (f"{self.profile.short_name}: urgent handoff ({handoff.reason}) waiting. "
                f"Staff queue: {self.settings.public_url}/staff/")
        try:
            self.gateway.send(number, text)
            outcome = "sent"
        except SendError as exc:
            outcome = f"failed: {exc}"[:60]
            logging.getLogger(__name__).warning("on-call notice for handoff %s failed: %s", handoff.id, exc)
        self.audit.record("system", Action.ON_CALL, handoff.conversation_id, f"handoff={handoff.id} {outcome}")

    @cached_property
    def staff_accounts(self) -> StaffAccountStore:
        s = self.settings
        return StaffAccountStore(self.db, self.clock, s.staff_lockout_failures, s.staff_lockout_minutes)

    @cached_property
    def staff_sessions(self) -> SessionStore:
        s = self.settings
        return SessionStore(self.redis, self.clock, timedelta(minutes=s.staff_idle_minutes),
                            timedelta(hours=s.staff_absolute_hours))

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.db, self.clock)

    @cached_property
    def notes(self) -> NoteStore:
        return NoteStore(self.db, self.clock)

    @cached_property
    def conversation_search(self) -> ConversationSearch:
        return ConversationSearch(self.db)

    @cached_property
    def retention(self) -> Retention:
        return Retention(self.db, self.clock, self.audit, self.settings.retention_days, self.settings.retention_mode)

    def warm(self) -> None:
        """Build the parts that cost CPU to load, connecting to nothing: the domain's responses
        (~0.4 s of YAML) and the department profile. A worker calls it at start, so that its first
        job does not pay for them (measured by `make bench`: ~0.45 s)."""
        _ = (self.profile, self.catalog, self.safety)


_process_services: Services | None = None


def get_services() -> Services:
    """The process-wide Services, built from the environment on first use (never at import)."""
    global _process_services
    if _process_services is None:
        _process_services = Services(Settings.from_env(), SystemClock())
    return _process_services


def use_services(services: Services | None) -> None:
    """Install the Services a worker process (or a test) runs jobs with."""
    global _process_services
    _process_services = services

"""Report actions run as rasa_sdk runs them, against a real (SQLite) database, the department's
real service area (department.yml), a driven clock, and pictures from a local media server."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.report_form import (
    ActionAskIncidentConfirmed, ActionAskIncidentDescription, ActionAskIncidentPlace, ActionAskIncidentType,
    ActionAskIncidentWhen, ActionStartReport,
    ActionSubmitReport, ValidateReportIncidentForm,
)
from actions.reports import ActionCheckReportStatus
from actions.signup_form import ActionLeaveForm
from bot.department import DepartmentProfile
from bot.reports.media import MediaIntake
from bot.reports.photos import LocalPhotoStore, PhotoFetcher
from bot.reports.places import ServiceArea
from bot.reports.review import REVIEW_APPEARANCE_ONLY
from bot.reports.service import ReportService
from bot.reports.store import ReportStore
from bot.responses import ResponseCatalog
from bot.settings import ROOT
from bot.sms import Button, render_menu, segment_count
from bot.storage.conversations import ConversationStore
from bot.storage.database import Database
from bot.storage.messages import MessageStore
from bot.storage.models import ReportStatus
from tests.conftest import MutableClock
from tests.fakes.media import SID, TOKEN, FakeMediaHost, gps_jpeg

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
CATALOG = ResponseCatalog(DOMAIN["responses"])
PROFILE = DepartmentProfile.load(ROOT / "department.yml")
NOW = datetime(2026, 11, 24, 17, 0)  # Tuesday 9:00 in Port Alder
FORM_SLOTS = DOMAIN["forms"]["report_incident_form"]["required_slots"]


class World:
    def __init__(self, url: str, photo_dir: Path, media_host: FakeMediaHost, forwards: bool = False) -> None:
        self.db = Database(url)
        self.clock = MutableClock(NOW)
        self.host = media_host
        conversations = ConversationStore(self.db, self.clock)
        self.media = MediaIntake(self.db, self.clock, PhotoFetcher((SID, TOKEN)), LocalPhotoStore(photo_dir))
        self.reports = ReportStore(self.db, self.clock)
        self.service = ReportService(self.reports, conversations, ServiceArea.from_profile(PROFILE), self.clock,
                                     PROFILE.timezone, forwards=forwards, media=self.media)
        self.ana = conversations.get_or_create("sms", "ana", "+15035550101")
        self.ben = conversations.get_or_create("sms", "ben", "+15035550102")
        conversations.get_or_create("web", "webby", "tokenhash")

    def send_photo(self, conversation_id: int, name: str = "wall.jpg") -> None:
        url = self.host.put(name, gps_jpeg())
        message, _ = MessageStore(self.db, self.clock).record_inbound(
            conversation_id, "sms", "", f"MM{name}{self.clock.now().timestamp()}", 1, [(url, "image/jpeg")])
        assert self.media.take(message.id).stored == 1


@pytest.fixture
def world(sqlite_url: str, tmp_path: Path, media_host: FakeMediaHost) -> Iterator[World]:
    w = World(sqlite_url, tmp_path / "photos", media_host)
    yield w
    w.db.dispose()


def run(action: Any, world: World, text: str = "", intent: str = "nlu_fallback", confidence: float = 0.4,
        entities: list[dict[str, Any]] | None = None, slots: dict[str, Any] | None = None,
        sender: str = "sms-ana") -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    latest = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": entities or []}
    tracker = Tracker(sender, {"language": "en", **(slots or {})}, latest, [], False, None,
                      {"name": "report_incident_form"}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return dispatcher.messages, events


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def provide(world: World):  # type: ignore[no-untyped-def]
    return lambda: world.service


def validate(world: World, requested: str | None, text: str, intent: str = "nlu_fallback", confidence: float = 0.4,
             entities: list[dict[str, Any]] | None = None, sender: str = "sms-ana",
             **slots: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    messages, events = run(ValidateReportIncidentForm(provide(world)), world, text, intent=intent,
                           confidence=confidence, entities=entities, sender=sender,
                           slots={"requested_slot": requested, **slots})
    return messages, slot_events(events)


def as_sms(message: dict[str, Any], language: str = "en") -> str:
    slots = {**PROFILE.slot_values(language), "language": language, **message}
    rendered = CATALOG.render(message["response"], slots)
    buttons = [Button(b["title"], b["payload"]) for b in message.get("buttons") or []]
    return render_menu(rendered.text, buttons, language)


GRAFFITI = {"entity": "report_type", "value": "graffiti"}


# -- starting: what the first message already said ----------------------------------------------

def test_the_first_message_fills_type_place_and_time(world: World) -> None:
    _, events = run(ActionStartReport(provide(world)), world,
                    "there's graffiti on the wall behind 5th and main, happened last night",
                    intent="report_incident", confidence=0.97, entities=[GRAFFITI])
    slots = slot_events(events)
    assert slots["incident_type"] == "graffiti"
    place = json.loads(slots["incident_place"])
    assert place["kind"] == "intersection" and set(place["streets"]) == {"5th", "Main"}
    assert place["detail"] == "behind"
    assert json.loads(slots["incident_when"])["approximate"] is True
    assert slots["incident_started"] == NOW.isoformat()


def test_a_picture_sent_first_counts_for_the_report(world: World) -> None:
    world.send_photo(world.ana.id)
    _, events = run(ActionStartReport(provide(world)), world, "/send_photo", intent="send_photo", confidence=1.0)
    assert slot_events(events)["incident_photos"] == 1.0


def test_another_agencys_topic_or_place_ends_the_form_with_their_number(world: World) -> None:
    [message], events = run(ActionStartReport(provide(world)), world, "huge pothole on main st",
                            intent="report_incident", confidence=0.9)
    assert message["response"] == "utter_report_other_agency"
    assert (message["agency"], message["agency_phone"]) == ("Port Alder Public Works", "503-555-0130")
    slots = slot_events(events)
    assert slots["incident_outside"] is True
    required = asyncio.run(ValidateReportIncidentForm(provide(world)).required_slots(
        FORM_SLOTS, CollectingDispatcher(), Tracker("sms-ana", slots, {}, [], False, None, {}, ""), DOMAIN))
    assert required == []

    messages, slots = validate(world, "incident_place", "on ridge rd near the quarry")
    assert [m["response"] for m in messages] == ["utter_report_other_agency"]
    assert messages[0]["agency"] == "Alder County Sheriff's Office" and slots["incident_outside"] is True
    said, _ = run(ActionSubmitReport(provide(world)), world, slots={**slots, "incident_type": "graffiti"})
    assert said == [] and world.reports.recent_for(world.ana.id) == []


# -- the questions ---------------------------------------------------------------------------------

def test_the_type_menu_fits_two_sms_and_a_number_picks_the_type(world: World) -> None:
    [message], _ = run(ActionAskIncidentType(provide(world)), world)
    assert len(message["buttons"]) == 10 and segment_count(as_sms(message)) <= 2
    assert message["buttons"][3] == {"title": "Graffiti", "payload": '/report_incident{"report_type": "graffiti"}'}
    _, slots = validate(world, "incident_type", '/report_incident{"report_type": "graffiti"}',
                        intent="report_incident", confidence=1.0, entities=[GRAFFITI])
    assert slots["incident_type"] == "graffiti"
    messages, slots = validate(world, "incident_type", "the thing with the stuff")
    assert messages == [] and slots == {"incident_type": None, "incident_misses": 1.0}
    [again], _ = run(ActionAskIncidentType(provide(world)), world, slots=slots)
    assert again["response"] == "utter_incident_type_not_understood" and len(again["buttons"]) == 10
    _, slots = validate(world, "incident_type", "the thing with the stuff", incident_misses=1.0)
    assert slots["incident_type"] == "other"


def test_a_place_is_read_or_asked_again_then_taken_as_written(world: World) -> None:
    _, slots = validate(world, "incident_place", "in front of 415 elm st apt 2")
    assert json.loads(slots["incident_place"])["text"].startswith("415 Elm St")
    messages, slots = validate(world, "incident_place", "over there")
    assert messages == [] and slots == {"incident_place": None, "incident_misses": 1.0}
    [hint], _ = run(ActionAskIncidentPlace(provide(world)), world, slots=slots)
    assert hint["response"] == "utter_incident_place_not_understood"
    [plain], _ = run(ActionAskIncidentPlace(provide(world)), world)
    assert plain["response"] == "utter_ask_incident_place"
    _, slots = validate(world, "incident_place", "by the big blue house", incident_misses=1.0)
    assert json.loads(slots["incident_place"]) == {**json.loads(slots["incident_place"]), "kind": "landmark",
                                                   "text": "by the big blue house"}


def test_when_is_parsed_or_unknown_and_never_in_the_future(world: World) -> None:
    _, slots = validate(world, "incident_when", "yesterday around 5pm")
    when = json.loads(slots["incident_when"])
    assert when["at"].startswith("2026-11-24T01:00")  # 5 PM Monday in Port Alder is 01:00 UTC Tuesday
    _, slots = validate(world, "incident_when", "not sure")
    assert slots["incident_when"] == "unknown"
    messages, slots = validate(world, "incident_when", "tomorrow morning")
    assert messages == [] and slots == {"incident_when": None, "incident_misses": 1.0}
    [hint], _ = run(ActionAskIncidentWhen(provide(world)), world, slots=slots)
    assert hint["response"] == "utter_incident_when_not_understood"
    _, slots = validate(world, "incident_place", "5th and main last night")  # both in one answer
    assert slots["incident_place"] and json.loads(slots["incident_when"])["text"] == "last night"


def test_suspicious_activity_asks_for_behaviour_and_holds_looks_only_for_staff(world: World) -> None:
    [ask], _ = run(ActionAskIncidentDescription(provide(world)), world, slots={"incident_type": "suspicious_activity"})
    assert ask["response"] == "utter_ask_incident_description_behaviour"
    [ask], _ = run(ActionAskIncidentDescription(provide(world)), world, slots={"incident_type": "noise"})
    assert ask["response"] == "utter_ask_incident_description"

    looks = "a black guy in a hoodie walking down our street"
    messages, slots = validate(world, "incident_description", looks, incident_type="suspicious_activity")
    assert messages == [] and slots == {"incident_description": None, "incident_nudged": True}
    [nudge], _ = run(ActionAskIncidentDescription(provide(world)), world,
                     slots={"incident_type": "suspicious_activity", **slots})
    assert nudge["response"] == "utter_incident_description_behaviour"
    _, slots = validate(world, "incident_description", looks, incident_type="suspicious_activity",
                        incident_nudged=True)
    assert slots["incident_description"] == looks

    _, slots = validate(world, "incident_description", "a man trying car door handles on every car",
                        incident_type="suspicious_activity")
    assert slots["incident_description"] == "a man trying car door handles on every car"

    place = json.dumps({"kind": "street", "text": "Elm St", "streets": ["Elm St"]})
    [message], _ = run(ActionSubmitReport(provide(world)), world, slots={
        "incident_type": "suspicious_activity", "incident_place": place, "incident_when": "unknown",
        "incident_description": looks, "incident_anonymous": True, "incident_confirmed": True})
    assert message["response"] == "utter_report_held"
    [report] = world.reports.recent_for(world.ana.id)
    assert report.review_reason == REVIEW_APPEARANCE_ONLY and world.reports.outbox(report.id) is None


def test_a_question_instead_of_an_answer_fills_nothing(world: World) -> None:
    for requested in ("incident_type", "incident_place", "incident_when", "incident_anonymous",
                      "incident_confirmed"):
        messages, slots = validate(world, requested, "how do i get a copy of a police report",
                                   intent="faq", confidence=0.93)
        assert slots == {} and messages == [], requested
    _, slots = validate(world, "incident_description", "never mind", intent="leave_form", confidence=0.95)
    assert slots == {}


def test_web_chat_skips_photos_and_contact_and_sms_skips_follow_up_when_anonymous(world: World) -> None:
    validator = ValidateReportIncidentForm(provide(world))

    def required(sender: str, **slots: Any) -> list[str]:
        tracker = Tracker(sender, slots, {}, [], False, None, {}, "")
        return asyncio.run(validator.required_slots(FORM_SLOTS, CollectingDispatcher(), tracker, DOMAIN))

    assert "incident_photos" not in required("web-webby") and "incident_anonymous" not in required("web-webby")
    assert "incident_follow_up" in required("sms-ana")
    assert "incident_follow_up" not in required("sms-ana", incident_anonymous=True)


# -- the summary, corrections, and filing -------------------------------------------------------

def _answers(**changes: Any) -> dict[str, Any]:
    place = json.dumps({"kind": "intersection", "text": "Main St & 5th Ave", "streets": ["Main St", "5th Ave"]})
    answers = {"incident_type": "abandoned_vehicle", "incident_place": place, "incident_when": "unknown",
               "incident_description": "grey sedan with flat tires, here for two weeks", "incident_photos": 0.0,
               "incident_anonymous": False, "incident_follow_up": True, "incident_started": NOW.isoformat()}
    return {**answers, **changes}


def test_the_summary_shows_the_answers_and_fits_two_sms(world: World) -> None:
    world.send_photo(world.ana.id, "car.jpg")
    [message], _ = run(ActionAskIncidentConfirmed(provide(world)), world, slots=_answers())
    text = as_sms(message)
    assert "Abandoned vehicle, Main St & 5th Ave, time unknown" in text and "Photos: 1." in text
    assert "We may contact you." in text and segment_count(text) <= 2


def test_a_correction_at_the_summary_changes_the_answer_and_asks_again(world: World) -> None:
    messages, slots = validate(world, "incident_confirmed", "no, it was on 6th street", intent="deny",
                               confidence=0.8, **_answers())
    assert json.loads(slots["incident_place"])["text"] == "6th St" and slots["incident_confirmed"] is None
    _, slots = validate(world, "incident_confirmed", "no wait, it was graffiti", intent="deny", confidence=0.7,
                        entities=[GRAFFITI], **_answers())
    assert slots["incident_type"] == "graffiti" and slots["incident_confirmed"] is None
    _, slots = validate(world, "incident_confirmed", "no", intent="deny", confidence=0.99, **_answers())
    assert slots == {"incident_confirmed": False}


def test_no_at_the_summary_saves_nothing(world: World) -> None:
    [message], events = run(ActionSubmitReport(provide(world)), world, slots=_answers(incident_confirmed=False))
    assert message["response"] == "utter_report_not_saved"
    assert world.reports.recent_for(world.ana.id) == []
    assert slot_events(events)["incident_type"] is None


def test_filing_gives_a_reference_attaches_pictures_and_queues_it_when_forwarding(
        world: World) -> None:
    world.send_photo(world.ana.id, "a.jpg")
    world.send_photo(world.ana.id, "b.jpg")
    world.service.forwards = True
    [message], events = run(ActionSubmitReport(provide(world)), world, slots=_answers(incident_confirmed=True))
    assert message["response"] == "utter_report_filed"
    [report] = world.reports.recent_for(world.ana.id)
    assert message["reference"] == report.reference
    assert report.follow_up_consent and not report.anonymous and report.report_type == "abandoned_vehicle"
    assert len(world.reports.photos(report.id)) == 2
    assert world.reports.outbox(report.id) is not None
    assert all(value is None for value in slot_events(events).values())


def test_anonymous_reports_never_consent_to_follow_up_and_web_reports_are_anonymous(world: World) -> None:
    run(ActionSubmitReport(provide(world)), world,
        slots=_answers(incident_confirmed=True, incident_anonymous=True, incident_follow_up=True))
    [report] = world.reports.recent_for(world.ana.id)
    assert report.anonymous and not report.follow_up_consent
    web = world.service.conversation_for("web-webby")
    assert web is not None
    run(ActionSubmitReport(provide(world)), world, sender="web-webby",
        slots=_answers(incident_confirmed=True, incident_anonymous=None, incident_follow_up=None))
    [report] = world.reports.recent_for(web.id)
    assert report.anonymous and not report.follow_up_consent


def test_never_mind_forgets_the_report_answers(world: World) -> None:
    [message], events = run(ActionLeaveForm(provide(world)), world, slots=_answers())  # type: ignore[arg-type]
    assert message["response"] == "utter_form_left"
    assert set(slot_events(events)) >= set(_answers()) and not any(slot_events(events).values())


# -- status -----------------------------------------------------------------------------------------

def test_status_by_reference_only_for_the_resident_who_filed_it(world: World) -> None:
    mine = world.reports.create(world.ana.id, "graffiti", "tags", place_text="Main St & 5th Ave")
    world.reports.set_status(mine.id, ReportStatus.CLOSED, "Painted over by the city on Nov 23.")
    [message], _ = run(ActionCheckReportStatus(provide(world)), world, f"status {mine.reference.lower()}",
                       intent="check_report_status", confidence=0.95)
    assert message["response"] == "utter_report_status"
    assert message["status_line"] == f"{mine.reference} Graffiti, Main St & 5th Ave: closed. " \
                                     "Painted over by the city on Nov 23."
    [message], _ = run(ActionCheckReportStatus(provide(world)), world, f"status {mine.reference}",
                       intent="check_report_status", sender="sms-ben")
    assert message["response"] == "utter_report_not_found"


def test_status_without_a_reference_lists_recent_reports_of_the_type_named(world: World) -> None:
    [message], _ = run(ActionCheckReportStatus(provide(world)), world, "any news on my report",
                       intent="check_report_status")
    assert message["response"] == "utter_no_reports"
    noise = world.reports.create(world.ana.id, "noise", "party")
    graffiti = world.reports.create(world.ana.id, "graffiti", "tags")
    [message], _ = run(ActionCheckReportStatus(provide(world)), world, "what happened with my graffiti report",
                       intent="check_report_status", entities=[GRAFFITI])
    assert message["status_lines"] == f"{graffiti.reference} Graffiti: received, not yet reviewed."
    [message], _ = run(ActionCheckReportStatus(provide(world)), world, "my reports?", intent="check_report_status")
    assert message["status_lines"].splitlines() == [f"{graffiti.reference} Graffiti: received, not yet reviewed.",
                                                    f"{noise.reference} Noise: received, not yet reviewed."]


def test_a_description_that_sounds_like_danger_is_kept_as_the_answer(world: World) -> None:
    """Danger is the worker's safety screen's to answer, before NLU; the form keeps the words."""
    text = "a man was pulling on car door handles down the block"
    messages, slots = validate(world, "incident_description", text, intent="report_incident", confidence=0.9,
                               incident_type="suspicious_activity")
    assert messages == [] and slots["incident_description"] == text



"""Non-emergency reports by SMS, end to end: the real trained model, the action server, a worker,
pictures from a local server that serves media like Twilio, staff closing a report, and the
sweeper's closing text. The test clock is the real time: the action server files reports
with the system clock."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pytest

from bot.services import Services
from bot.storage.models import ReportStatus
from bot.sweeper import sweep
from tests.conftest import MutableClock, RasaStack
from tests.fakes.media import SID, TOKEN, FakeMediaHost, gps_jpeg
from tests.phone import Phone

REFERENCE = re.compile(r"\b(R-\d{4,})\b")


def menu_lines(reply: str) -> list[str]:
    return [line.split(" - ", 1)[1] for line in reply.splitlines() if line[:1].isdigit() and " - " in line]


@pytest.fixture
def resident_services(make_services: Callable[..., Services], rasa_stack: RasaStack, tmp_path: Path) -> Services:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    return make_services(MutableClock(now), rasa_url=rasa_stack.url, database_url=rasa_stack.database_url,
                         twilio_account_sid=SID, twilio_auth_token=TOKEN, report_photo_dir=tmp_path / "photos",
                         quiet_hours=("00:00", "00:00"))


def reference_in(reply: str) -> str:
    match = REFERENCE.search(reply)
    assert match, reply
    return match.group(1)


def test_graffiti_with_a_photo_then_status_then_a_text_when_staff_close_it(
        resident_services: Services, media_host: FakeMediaHost) -> None:
    services = resident_services
    phone = Phone(services)
    [ask_when] = phone.text("there's graffiti on the wall behind 5th and main")
    assert ask_when.startswith("When did it happen?"), ask_when
    [ask_what] = phone.text("last night")
    assert ask_what == "What happened? Please tell me in a few words."
    [ask_photo] = phone.text("big red tags sprayed across the whole wall")
    assert ask_photo.startswith("Do you have a photo?") and menu_lines(ask_photo) == ["No photo"]
    [ask_anonymous] = phone.text("", media=[media_host.put("wall.jpg", gps_jpeg())])
    assert ask_anonymous.startswith("Do you want to stay anonymous?")
    [ask_follow_up] = phone.text("2")  # "You can contact me"
    assert ask_follow_up.startswith("Can we text you when there's an update")
    [summary] = phone.text("yes")
    assert summary.startswith("Please check: Graffiti, ") and "Photos: 1." in summary and "last night" not in summary
    assert "We may contact you." in summary and menu_lines(summary) == ["Yes", "No"]
    [done] = phone.text("1")
    assert done.startswith("Thanks! Your report number is R-"), done
    reference = reference_in(done)

    [report] = services.report_store.recent_for(phone.conversation.id)
    assert (report.reference, report.report_type, report.follow_up_consent, report.anonymous) == (
        reference, "graffiti", True, False)
    assert set(json.loads(report.place_json or "{}")["streets"]) == {"5th", "Main"}
    assert report.occurred_at is not None and report.occurred_text == "last night"
    assert len(services.report_store.photos(report.id)) == 1

    [status] = phone.text(f"status {reference}")
    assert status.startswith(f"{reference} Graffiti, ") and "received" in status
    [listed] = phone.text("what happened with my graffiti report?")
    assert reference in listed

    services.report_store.set_status(report.id, ReportStatus.CLOSED, "Painted over.")
    sweep(services)
    texts = [m.text for m in phone.outbound() if m.author == "system"]
    assert texts == [f"Update on your report {reference} (Graffiti): it's closed. Painted over."]


def test_an_abandoned_car_at_an_intersection_corrected_at_the_summary(resident_services: Services) -> None:
    phone = Phone(resident_services)
    [ask_when] = phone.text("abandoned car at main & 5th")
    assert ask_when.startswith("When did it happen?"), ask_when
    phone.text("not sure")
    [ask_photo] = phone.text("grey sedan with two flat tires, it hasn't moved in two weeks")
    assert ask_photo.startswith("Do you have a photo?")
    [ask_anonymous] = phone.text("1")  # No photo
    assert ask_anonymous.startswith("Do you want to stay anonymous?")
    [summary] = phone.text("yes")
    assert summary.startswith("Please check: Abandoned vehicle, ") and "time unknown" in summary
    assert "Anonymous." in summary
    [again] = phone.text("no, it was on 6th street")
    assert again.startswith("Please check: Abandoned vehicle, 6th St,"), again
    [done] = phone.text("yes")
    reference = reference_in(done)
    [report] = resident_services.report_store.recent_for(phone.conversation.id)
    assert report.reference == reference and report.place_text == "6th St" and report.anonymous
    assert not report.follow_up_consent and report.occurred_at is None


def test_suspicious_activity_asks_for_behaviour_and_anonymous_reports_need_no_contact(
        resident_services: Services) -> None:
    phone = Phone(resident_services)
    phone.text("i want to report suspicious activity")
    [ask_when] = phone.text("outside 415 elm st")
    assert ask_when.startswith("When did it happen?"), ask_when
    [ask_what] = phone.text("today around 2pm")
    assert ask_what.startswith("What did the person do that worried you?")
    [nudge] = phone.text("a guy in a hoodie who doesn't live here")
    assert nudge.startswith("Thanks. To act on it, we need what the person did")
    [ask_photo] = phone.text("he was pulling on car door handles all along the block, then left in a white van")
    assert ask_photo.startswith("Do you have a photo?")
    phone.text("no photo")
    phone.text("yes, keep me anonymous")
    [done] = phone.text("yes")
    reference = reference_in(done)
    assert done.startswith("Thanks! Your report number is")
    [report] = resident_services.report_store.recent_for(phone.conversation.id)
    assert report.reference == reference and report.anonymous and report.review_reason is None
    assert "door handles" in report.description


def test_never_mind_leaves_without_saving(resident_services: Services) -> None:
    phone = Phone(resident_services)
    [ask_type] = phone.text("i need to report something")
    assert ask_type.startswith("What would you like to report?") and "Graffiti" in menu_lines(ask_type)
    [left] = phone.text("never mind")
    assert left.startswith("OK, I stopped. Nothing was saved.")
    assert resident_services.report_store.recent_for(phone.conversation.id) == []


def test_an_emergency_mid_report_gets_911_and_hands_the_conversation_to_staff(resident_services: Services) -> None:
    phone = Phone(resident_services)
    phone.text("i need to report graffiti")
    emergency, handed_off = phone.text("wait someone is breaking into my neighbor's house right now")
    assert "911" in emergency and "MENU" in handed_off
    assert phone.text("never mind") == []  # a person reads the conversation now
    back = phone.text("menu")
    assert back[0].startswith("OK, you're back with the assistant")
    # the form ended with the handoff: a new report starts afresh, nothing was saved
    [ask_type] = phone.text("i need to report something")
    assert ask_type.startswith("What would you like to report?")
    assert resident_services.report_store.recent_for(phone.conversation.id) == []


def test_a_report_in_spanish(resident_services: Services) -> None:
    phone = Phone(resident_services)
    [ask_when] = phone.text("quiero reportar grafiti en la pared de la biblioteca en elm st")
    assert ask_when.startswith("¿Cuando paso? Por ejemplo"), ask_when  # accents a GSM-7 SMS cannot carry are dropped


def test_happening_now_and_dangerous_gets_911_and_no_form(resident_services: Services) -> None:
    phone = Phone(resident_services)
    reply, handed_off = phone.text("i want to report a guy with a gun outside my house right now")
    assert "911" in reply and "MENU" in handed_off
    assert phone.text("hello") == []  # a person handles it now
    for after in phone.text("menu"):
        assert not after.startswith(("What would you like to report", "Where did it happen", "When did it happen")), after
    assert resident_services.report_store.recent_for(phone.conversation.id) == []

"""Every response of domain.yml, in both languages, as a resident would receive it by SMS."""
from __future__ import annotations

import re

import pytest
import yaml

from bot.department import DepartmentProfile
from bot.responses import ResponseCatalog, fill
from bot.settings import ROOT
from bot.sms import Button, normalize_gsm, render_menu, segment_count

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
PROFILE = DepartmentProfile.load(ROOT / "department.yml")
CATALOG = ResponseCatalog(DOMAIN["responses"])
OPT_OUT_WORDS = re.compile(r"\b(STOP|STOPALL|CANCEL|END|QUIT|UNSUBSCRIBE|REVOKE|OPTOUT)\b", re.IGNORECASE)
# The HELP answer must tell residents how to opt out of all texts (carrier rules); nothing else may.
MAY_NAME_OPT_OUT = {"utter_consent_help"}


def _variations() -> list[tuple[str, str, dict]]:  # type: ignore[type-arg]
    cases = []
    for name, variations in DOMAIN["responses"].items():
        for index, variation in enumerate(variations):
            conditions = {c["name"]: c["value"] for c in variation.get("condition") or []}
            language = conditions.get("language", "en")
            cases.append((f"{name}[{index}]", language, {"name": name, "variation": variation, "conditions": conditions}))
    return cases


CASES = _variations()


# Values the meeting actions and the notice sweep fill in at run time, at their longest
# (bot/meetings/wording.py shortens titles to 40 and places to 80 characters).
RUNTIME_VALUES = {
    "meeting_title": "Neighborhood Watch: Harbor District Meet",
    "meeting_when": "Wed Nov 25 10:30am",
    "meeting_place": "Port Alder Community Center, 1200 Harbor Boulevard, Room 204B (upstairs, left)",
    "meeting_label": "Neighborhood Watch: Harbor District Meet, Wed Nov 25 10:30am",  # the sign-up questions' slot
    "code": "M-4K7Q",
    "calendar_link": "https://portalderpd.example/meetings/12345.ics",
    "party_size": "10",
    "max_party": "10",
    "reminders_note": " Reminders: yes.",
    "signup_lines": "\n".join(["Wed Nov 25 10:30am Neighborhood Watch: Harbor District Meet (M-4K7Q, waitlist)"] * 3),
    # reports (actions/reports.py, actions/report_form.py, bot/reports/notices)
    "agency": "Alder County Sheriff's Office",
    "agency_phone": "503-555-0160",
    "reference": "R-10042",
    "report_type": "Past theft (no one there now)",
    "place": "1200 Harbor Blvd Apt 204B & River St",
    "when": "Mon Nov 23, around 10:30 PM",
    "description": "someone sprayed big red letters over the whole back wall...",
    "notes": "Photos: 3. We may contact you.",
    "status_line": "R-10042 Past theft (no one there now), 1200 Harbor Blvd Apt 204B & River St: "
                   "received, not yet reviewed. " + "x" * 120,
    "status_lines": "\n".join(["R-10042 Past theft (no one there now), 1200 Harbor Blvd Apt 2: "
                               "received, not yet reviewed."] * 3),
    "max_mb": "5",
}


def _sms(variation: dict, language: str) -> str:  # type: ignore[type-arg]
    slots = {**PROFILE.slot_values(language), "language": language, **RUNTIME_VALUES}
    buttons = [Button(fill(b["title"], slots), b["payload"]) for b in variation.get("buttons") or []]
    return normalize_gsm(render_menu(fill(variation.get("text", ""), slots), buttons, language))


@pytest.mark.parametrize("case_id,language,case", CASES, ids=[c[0] for c in CASES])
def test_every_variation_fits_two_sms_segments_once_filled(case_id: str, language: str, case: dict) -> None:  # type: ignore[type-arg]
    text = _sms(case["variation"], language)
    assert text.strip(), f"{case_id} is empty"
    assert segment_count(text) <= 2, f"{case_id} needs {segment_count(text)} segments: {text!r}"


@pytest.mark.parametrize("case_id,language,case", CASES, ids=[c[0] for c in CASES])
def test_no_placeholder_is_left_unfilled(case_id: str, language: str, case: dict) -> None:  # type: ignore[type-arg]
    assert not re.search(r"\{[a-z_0-9]+\}", _sms(case["variation"], language)), case_id


@pytest.mark.parametrize("case_id,language,case", CASES, ids=[c[0] for c in CASES])
def test_no_response_asks_for_an_opt_out_word(case_id: str, language: str, case: dict) -> None:  # type: ignore[type-arg]
    variation = case["variation"]
    words = " ".join([variation.get("text", "")] + [b["title"] for b in variation.get("buttons") or []])
    if case["name"] in MAY_NAME_OPT_OUT:
        assert "opt out of all texts" in words or "no recibir" in words
        return
    assert not OPT_OUT_WORDS.search(words), f"{case_id} mentions an SMS opt-out word: {words!r}"


@pytest.mark.parametrize("case_id,language,case", CASES, ids=[c[0] for c in CASES])
def test_never_shows_a_payload(case_id: str, language: str, case: dict) -> None:  # type: ignore[type-arg]
    assert not re.search(r"(^|\s)/[a-z_]+", _sms(case["variation"], language)), case_id


def test_every_response_speaks_english_and_spanish() -> None:
    for name, variations in DOMAIN["responses"].items():
        languages = {(v.get("condition") and {c["name"]: c["value"] for c in v["condition"]}.get("language")) or "en"
                     for v in variations}
        assert {"en", "es"} <= languages, f"{name} lacks a language: {languages}"


def test_every_intent_has_an_answer_and_every_faq_topic_a_response() -> None:
    rules = "\n".join(p.read_text() for p in (ROOT / "data" / "rules").glob("*.yml"))
    for intent in DOMAIN["intents"]:
        assert f"intent: {intent}\n" in rules, f"no rule answers {intent}"
    topics = ["what_is_community_policing", "neighborhood_watch", "citizen_academy", "ride_along", "volunteer",
              "youth_programs", "crime_prevention_tips", "home_security_check", "vacation_watch",
              "non_emergency_number", "police_report_copy", "file_complaint", "commend_officer", "lost_property",
              "anonymous_tip", "mental_health_resources", "social_media", "station_hours_location", "privacy",
              "text_911"]
    for topic in topics:
        assert f"utter_faq/{topic}" in DOMAIN["responses"]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("text911", [True, False])
def test_conditional_choice_matches_rasa_rules(language: str, text911: bool) -> None:
    """The variation our pipeline picks is the one Rasa would pick (conditions first)."""
    slots = {**PROFILE.slot_values(language), "language": language, "dept_text911": text911}
    for _ in range(10):
        chosen = CATALOG.choose("utter_emergency", slots)
        conditions = {c["name"]: c["value"] for c in chosen.get("condition") or []}
        assert conditions.get("language") == language
        assert conditions.get("dept_text911") == text911


def test_safety_and_pipeline_responses_exist() -> None:
    for name in ["utter_emergency", "utter_crisis", "utter_consent_help", "utter_consent_opted_in",
                 "utter_service_apology", "utter_rate_limited", "utter_media_only", "utter_default"]:
        assert name in DOMAIN["responses"]
    for language in ("en", "es"):
        slots = {**PROFILE.slot_values(language), "language": language}
        assert "911" in CATALOG.render("utter_emergency", slots).text
        assert "988" in CATALOG.render("utter_crisis", slots).text
        assert PROFILE.non_emergency_phone in CATALOG.render("utter_service_apology", slots).text

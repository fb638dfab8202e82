"""How a meeting reads in a text, in English and Spanish, with the words from domain.yml."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import yaml

from bot.meetings.wording import (
    MAX_PLACE, MAX_TITLE, WORDS_RESPONSE, CalendarWords, meeting_line, meeting_values, place_text, when_text,
)
from bot.settings import ROOT
from bot.storage.models import Meeting

ADDRESS = "Harbor Cafe, 118 Front St, Port Alder, OR 97201"


def words_table(language: str) -> dict[str, Any]:
    """The `custom` table of utter_meeting_words for one language, as domain.yml has it."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    for variant in domain["responses"][WORDS_RESPONSE]:
        conditions = variant.get("condition") or []
        if language == "en" and not conditions:
            return variant["custom"]
        if any(c.get("name") == "language" and c.get("value") == language for c in conditions):
            return variant["custom"]
    raise AssertionError(f"no {WORDS_RESPONSE} for {language}")


EN = CalendarWords.from_table(words_table("en"))
ES = CalendarWords.from_table(words_table("es"))


def meeting(starts_at: datetime = datetime(2026, 11, 28, 18, 0), **fields: Any) -> Meeting:
    values: dict[str, Any] = dict(title="Coffee with a Cop", kind="coffee_with_a_cop", starts_at=starts_at,
                                  timezone="America/Los_Angeles", address=ADDRESS, room=None, virtual_url=None)
    values.update(fields)
    return Meeting(**values)


# -- the words -----------------------------------------------------------------------------

def test_domain_words_load_for_both_languages() -> None:
    assert (EN.days[5], EN.months[10], EN.clock, EN.date_order, EN.online) == ("Sat", "Nov", "12h", "md", "online")
    assert (ES.days[5], ES.months[10], ES.clock, ES.date_order, ES.online) == ("sáb", "nov", "24h", "dm", "en línea")


def test_missing_or_empty_entries_fall_back_to_english() -> None:
    assert CalendarWords.from_table({}) == EN
    partial = CalendarWords.from_table({"clock": "24h", "online": "", "days": None})
    assert partial.clock == "24h" and partial.online == "online" and partial.days == EN.days


@pytest.mark.parametrize("table", [
    {"days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]},
    {"days": ["d"] * 8},
    {"months": ["m"] * 11},
    {"months": ["m"] * 13},
])
def test_from_table_rejects_wrong_day_or_month_counts(table: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=WORDS_RESPONSE):
        CalendarWords.from_table(table)


# -- when ----------------------------------------------------------------------------------

@pytest.mark.parametrize("starts_at,english,spanish", [
    (datetime(2026, 11, 28, 18, 0), "Sat Nov 28 10am", "sáb 28 nov 10:00"),
    (datetime(2026, 11, 28, 2, 30), "Fri Nov 27 6:30pm", "vie 27 nov 18:30"),  # the day before, locally
    (datetime(2026, 11, 28, 8, 0), "Sat Nov 28 12am", "sáb 28 nov 0:00"),  # midnight
    (datetime(2026, 11, 28, 20, 0), "Sat Nov 28 12pm", "sáb 28 nov 12:00"),  # noon
    (datetime(2026, 11, 28, 17, 5), "Sat Nov 28 9:05am", "sáb 28 nov 9:05"),
    (datetime(2026, 7, 4, 17, 0), "Sat Jul 4 10am", "sáb 4 jul 10:00"),  # summer: UTC-7
    (datetime(2027, 1, 1, 3, 0), "Thu Dec 31 7pm", "jue 31 dic 19:00"),  # last year, locally
])
def test_when_reads_in_the_meetings_timezone(starts_at: datetime, english: str, spanish: str) -> None:
    assert when_text(meeting(starts_at), EN) == english
    assert when_text(meeting(starts_at), ES) == spanish


def test_the_same_moment_reads_differently_in_another_timezone() -> None:
    moment = datetime(2026, 11, 28, 18, 0)
    assert when_text(meeting(moment, timezone="America/New_York"), EN) == "Sat Nov 28 1pm"
    assert when_text(meeting(moment, timezone="UTC"), ES) == "sáb 28 nov 18:00"


# -- where ---------------------------------------------------------------------------------

def test_place_is_the_first_part_of_the_address_with_the_room() -> None:
    assert place_text(meeting(), EN) == "Harbor Cafe"
    assert place_text(meeting(room="Back room"), EN) == "Harbor Cafe, Back room"


def test_an_online_meeting_reads_online_and_a_hybrid_one_by_its_address() -> None:
    online = meeting(address=None, virtual_url="https://meet.example/abc")
    assert place_text(online, EN) == "online"
    assert place_text(online, ES) == "en línea"
    assert place_text(meeting(virtual_url="https://meet.example/abc"), EN) == "Harbor Cafe"
    assert place_text(meeting(address=None), EN) == ""


def test_a_long_place_is_shortened() -> None:
    place = place_text(meeting(address="Port Alder Community Center and Public Library Annex, 1 Main St",
                               room="Multipurpose Room B"), EN)
    assert len(place) <= MAX_PLACE and place.endswith("...")
    assert place.startswith("Port Alder Community Center")


# -- a line --------------------------------------------------------------------------------

def test_meeting_line_reads_when_what_where() -> None:
    assert meeting_line(meeting(room="Back room"), EN) == "Sat Nov 28 10am Coffee with a Cop, Harbor Cafe, Back room"
    assert meeting_line(meeting(title="Café con la Policía", room="Sala"), ES) == \
        "sáb 28 nov 10:00 Café con la Policía, Harbor Cafe, Sala"
    assert meeting_line(meeting(address=None, virtual_url="https://meet.example/x"), ES) == \
        "sáb 28 nov 10:00 Coffee with a Cop, en línea"
    assert meeting_line(meeting(address=None), EN) == "Sat Nov 28 10am Coffee with a Cop"


def test_a_long_title_is_shortened_with_dots() -> None:
    title = "Neighborhood Watch Orientation for New Block Captains and Volunteers"
    line = meeting_line(meeting(title=title), EN)
    shown = line[len("Sat Nov 28 10am "):-len(", Harbor Cafe")]
    assert len(shown) == MAX_TITLE and shown.endswith("...")
    assert shown == title[:MAX_TITLE - 3] + "..."


def test_shortening_never_leaves_a_dangling_comma_and_collapses_spaces() -> None:
    # Cut at 37 characters, this title would end in ", ".
    title = "Community  Safety Walk in   Old Harbor, Spring 2027 session"
    assert meeting_values(meeting(title=title), EN)["meeting_title"] == "Community Safety Walk in Old Harbor..."
    spaced = "Coffee   with\ta  Cop"
    assert meeting_values(meeting(title=spaced), EN)["meeting_title"] == "Coffee with a Cop"
    exact = "x" * MAX_TITLE
    assert meeting_values(meeting(title=exact), EN)["meeting_title"] == exact
    assert meeting_values(meeting(title=exact + "y"), EN)["meeting_title"] == "x" * (MAX_TITLE - 3) + "..."


# -- values for a response -----------------------------------------------------------------

def test_meeting_values_give_the_whole_address_and_room() -> None:
    values = meeting_values(meeting(room="Back room"), EN)
    assert values == {"meeting_title": "Coffee with a Cop", "meeting_when": "Sat Nov 28 10am",
                      "meeting_place": f"{ADDRESS}, Back room"}


def test_meeting_values_for_an_online_meeting_give_its_link() -> None:
    values = meeting_values(meeting(address=None, virtual_url="https://meet.example/abc"), ES)
    assert values["meeting_place"] == "https://meet.example/abc"
    assert values["meeting_when"] == "sáb 28 nov 10:00"


def test_meeting_values_with_only_a_room() -> None:
    assert meeting_values(meeting(address=None, room="Room 4"), EN)["meeting_place"] == "Room 4"
    assert meeting_values(meeting(address=None, room="Room 4", virtual_url="https://meet.example/a"),
                          EN)["meeting_place"] == "Room 4"


def test_meeting_values_shorten_a_long_address() -> None:
    address = "Port Alder Community Center and Public Library Annex, 1 Main Street, Port Alder, OR 97201"
    place = meeting_values(meeting(address=address, room="Multipurpose Room B"), EN)["meeting_place"]
    assert len(place) == 80 and place.endswith("...") and place.startswith("Port Alder Community Center")


def test_a_long_online_link_is_given_whole() -> None:
    url = "https://us02web.zoom.us/j/81234567890?pwd=" + "a" * 60
    assert meeting_values(meeting(address=None, virtual_url=url), EN)["meeting_place"] == url

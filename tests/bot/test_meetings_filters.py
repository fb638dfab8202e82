"""Reading which meetings a resident wants from their message: days (English and Spanish),
neighborhoods, and the whole filter with local days turned into UTC bounds."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bot.meetings.filters import day_range, fold, meeting_filter, neighborhood_in, wants_spanish
from bot.meetings.store import MeetingFilter

TUESDAY = date(2026, 11, 24)
WEDNESDAY = date(2026, 11, 25)
SATURDAY = date(2026, 11, 28)
SUNDAY = date(2026, 11, 29)
NEXT_MONDAY = date(2026, 11, 30)
LA = "America/Los_Angeles"


def days(offset_first: int, offset_last: int | None = None, today: date = TUESDAY) -> tuple[date, date]:
    last = offset_first if offset_last is None else offset_last
    return today + timedelta(days=offset_first), today + timedelta(days=last)


# -- day_range -----------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["any meetings today?", "Tonight", "algo para hoy", "HOY", "esta noche",
                                  "esta tarde hay reunion?"])
def test_today_and_tonight(text: str) -> None:
    assert day_range(text, TUESDAY) == (TUESDAY, TUESDAY)


@pytest.mark.parametrize("text", ["tomorrow", "meetings tmrw", "Mañana", "manana?", "hay algo mañana"])
def test_tomorrow(text: str) -> None:
    assert day_range(text, TUESDAY) == (WEDNESDAY, WEDNESDAY)


@pytest.mark.parametrize("text", ["reuniones en la mañana", "algo por la mañana", "EN LA MANANA"])
def test_in_the_morning_names_no_day(text: str) -> None:
    assert day_range(text, TUESDAY) is None


@pytest.mark.parametrize("text", ["pasado mañana", "y pasado manana?"])
def test_the_day_after_tomorrow(text: str) -> None:
    assert day_range(text, TUESDAY) == days(2)


@pytest.mark.parametrize("text", ["this week", "anything esta semana"])
def test_this_week_runs_to_sunday(text: str) -> None:
    assert day_range(text, TUESDAY) == (TUESDAY, SUNDAY)
    assert day_range(text, SUNDAY) == (SUNDAY, SUNDAY)


@pytest.mark.parametrize("text", ["next week", "la próxima semana", "la semana que viene", "la otra semana"])
def test_next_week_is_monday_to_sunday(text: str) -> None:
    assert day_range(text, TUESDAY) == (NEXT_MONDAY, NEXT_MONDAY + timedelta(days=6))
    assert day_range(text, SUNDAY) == (NEXT_MONDAY, NEXT_MONDAY + timedelta(days=6))


@pytest.mark.parametrize("text", ["this weekend", "weekend?", "el fin de semana", "este finde"])
def test_weekend(text: str) -> None:
    assert day_range(text, TUESDAY) == (SATURDAY, SUNDAY)
    assert day_range(text, SATURDAY) == (SATURDAY, SUNDAY)
    assert day_range(text, SUNDAY) == (SUNDAY, SUNDAY)


@pytest.mark.parametrize("text,expected", [
    ("saturday", SATURDAY), ("Sat", SATURDAY), ("el sábado", SATURDAY), ("el sabado", SATURDAY),
    ("SÁBADO!", SATURDAY), ("miércoles", WEDNESDAY), ("wednesday", WEDNESDAY), ("Wed?", WEDNESDAY),
    ("domingo", SUNDAY), ("sunday", SUNDAY), ("monday", NEXT_MONDAY), ("lunes", NEXT_MONDAY),
    ("thurs", date(2026, 11, 26)), ("jueves", date(2026, 11, 26)), ("viernes", date(2026, 11, 27)),
    ("fri", date(2026, 11, 27)), ("tuesday", TUESDAY), ("martes", TUESDAY), ("tues", TUESDAY),
])
def test_weekday_names_in_english_and_spanish_mean_the_next_such_day(text: str, expected: date) -> None:
    assert day_range(text, TUESDAY) == (expected, expected)


def test_next_names_the_coming_week_only_when_the_day_is_today() -> None:
    assert day_range("saturday", SATURDAY) == (SATURDAY, SATURDAY)
    assert day_range("next saturday", SATURDAY) == days(7, today=SATURDAY)
    assert day_range("next saturday", TUESDAY) == (SATURDAY, SATURDAY)
    assert day_range("next tuesday", TUESDAY) == days(7)


@pytest.mark.parametrize("text", ["any meetings about car break-ins?", "sunset district", "mondays",
                                  "satisfied", "hoyo", "reunion vecinal", ""])
def test_no_day_named(text: str) -> None:
    assert day_range(text, TUESDAY) is None


def test_the_more_specific_phrase_wins() -> None:
    # "this weekend" is not "this week"; "next weekend" is not "next week"; "pasado mañana" is not "mañana".
    assert day_range("this weekend", TUESDAY) == (SATURDAY, SUNDAY)
    assert day_range("next weekend", TUESDAY) == (SATURDAY, SUNDAY)
    assert day_range("pasado mañana", TUESDAY) != day_range("mañana", TUESDAY)
    assert day_range("tomorrow or saturday", TUESDAY) == (WEDNESDAY, WEDNESDAY)


def test_fold_drops_accents_case_and_punctuation() -> None:
    assert fold("  ¿Sábado,  en   ESPAÑOL? ") == "sabado en espanol"


# -- neighborhood_in -----------------------------------------------------------------------

NEIGHBORHOODS = ["Harbor District", "North Park", "Park", "Río Vista", "Oak District"]


@pytest.mark.parametrize("text,expected", [
    ("meetings in the harbor district", "Harbor District"),
    ("HARBOR DISTRICT!", "Harbor District"),
    ("anything near harbor?", "Harbor District"),  # the name without "District"
    ("north park please", "North Park"),
    ("park", "Park"),
    ("en rio vista", "Río Vista"),
    ("en Río Vista", "Río Vista"),
    ("oak district", "Oak District"),
    ("oak", None),  # "oak" alone is too short to stand for "Oak District"
    ("parking downtown", None),
    ("harborview", None),
    ("", None),
])
def test_neighborhood_named_in_a_message(text: str, expected: str | None) -> None:
    assert neighborhood_in(text, NEIGHBORHOODS) == expected


def test_the_longest_matching_neighborhood_wins_whatever_the_order() -> None:
    assert neighborhood_in("meet me in north park", ["Park", "North Park"]) == "North Park"
    assert neighborhood_in("meet me in north park", ["North Park", "Park"]) == "North Park"
    assert neighborhood_in("anything", []) is None


# -- meeting_filter ------------------------------------------------------------------------

def test_a_local_day_becomes_utc_bounds_in_the_department_timezone() -> None:
    # 05:00 UTC Wednesday is still 9pm Tuesday in Los Angeles: "today" is Tuesday there.
    now = datetime(2026, 11, 25, 5, 0)
    wanted = meeting_filter("anything today?", [], None, None, [], now, LA)
    assert (wanted.starts_after, wanted.starts_before) == (datetime(2026, 11, 24, 8, 0), datetime(2026, 11, 25, 8, 0))
    # The same moment in New York is already Wednesday.
    wanted = meeting_filter("anything today?", [], None, None, [], now, "America/New_York")
    assert (wanted.starts_after, wanted.starts_before) == (datetime(2026, 11, 25, 5, 0), datetime(2026, 11, 26, 5, 0))


def test_a_weekend_across_the_end_of_daylight_saving_time() -> None:
    # Friday 30 Oct 2026, noon PDT. Clocks go back at 2am on Sunday 1 Nov.
    now = datetime(2026, 10, 30, 19, 0)
    weekend = meeting_filter("this weekend", [], None, None, [], now, LA)
    assert weekend.starts_after == datetime(2026, 10, 31, 7, 0)  # Saturday 00:00 PDT
    assert weekend.starts_before == datetime(2026, 11, 2, 8, 0)  # Monday 00:00 PST
    sunday = meeting_filter("el domingo", [], None, None, [], now, LA)
    assert sunday.starts_before - sunday.starts_after == timedelta(hours=25)


def test_a_day_across_the_start_of_daylight_saving_time() -> None:
    now = datetime(2027, 3, 12, 20, 0)  # Friday 12 Mar 2027, noon PST; clocks go forward Sunday 14 Mar
    sunday = meeting_filter("sunday", [], None, None, [], now, LA)
    assert sunday.starts_after == datetime(2027, 3, 14, 8, 0)
    assert sunday.starts_before == datetime(2027, 3, 15, 7, 0)


def test_no_day_leaves_the_time_window_open() -> None:
    wanted = meeting_filter("town hall meetings", ["town_hall"], None, None, [], datetime(2026, 11, 24, 17), LA)
    assert wanted == MeetingFilter(kinds=("town_hall",))
    assert not wanted.is_empty()
    assert meeting_filter("meetings", [], None, None, [], datetime(2026, 11, 24, 17), LA).is_empty()


@pytest.mark.parametrize("text,entity,expected", [
    ("meetings", "es", "es"),
    ("meetings in spanish", None, "es"),
    ("reuniones en español", None, "es"),
    ("REUNIONES EN ESPANOL", None, "es"),
    ("meetings", "en", None),
    ("meetings", None, None),
])
def test_language_from_the_entity_or_the_words(text: str, entity: str | None, expected: str | None) -> None:
    wanted = meeting_filter(text, [], None, entity, [], datetime(2026, 11, 24, 17), LA)
    assert wanted.language == expected


def test_wants_spanish() -> None:
    assert wants_spanish("¿Hay reuniones en castellano?")
    assert not wants_spanish("any meetings at the spa?")


@pytest.mark.parametrize("zipcode,expected", [
    ("97201", "97201"), ("9720", None), ("972011", None), ("97201-1234", None), ("abcde", None),
    (" 97201", None), ("", None), (None, None),
])
def test_zip_code_must_be_five_digits(zipcode: str | None, expected: str | None) -> None:
    wanted = meeting_filter("meetings", [], zipcode, None, [], datetime(2026, 11, 24, 17), LA)
    assert wanted.zipcode == expected


def test_unknown_kinds_are_dropped_and_repeats_kept_once_in_order() -> None:
    wanted = meeting_filter("meetings", ["town_hall", "bake_sale", "coffee_with_a_cop", "town_hall"], None, None,
                            [], datetime(2026, 11, 24, 17), LA)
    assert wanted.kinds == ("town_hall", "coffee_with_a_cop")
    assert meeting_filter("x", ["bake_sale"], None, None, [], datetime(2026, 11, 24, 17), LA).kinds == ()


def test_everything_the_message_says_goes_into_one_filter() -> None:
    wanted = meeting_filter("neighborhood watch in the harbor district on saturday, en español",
                            ["neighborhood_watch"], "97201", None, ["North Park", "Harbor District"],
                            datetime(2026, 11, 24, 17), LA)
    assert wanted == MeetingFilter(
        kinds=("neighborhood_watch",), zipcode="97201", neighborhood="Harbor District", language="es",
        starts_after=datetime(2026, 11, 28, 8, 0), starts_before=datetime(2026, 11, 29, 8, 0),
    )


def test_tomorrow_morning_in_spanish_is_tomorrow() -> None:
    assert day_range("mañana por la mañana", date(2026, 11, 24)) == (date(2026, 11, 25), date(2026, 11, 25))


def test_proximo_sabado_said_on_a_saturday_is_next_week() -> None:
    assert day_range("el próximo sábado", date(2026, 11, 28)) == (date(2026, 12, 5), date(2026, 12, 5))

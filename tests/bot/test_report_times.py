from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.reports.times import When, parse_when
from bot.sms import is_gsm7

TZ = "America/Los_Angeles"
LA = ZoneInfo(TZ)
# Tuesday 24 November 2026, 2:00 PM in Port Alder (PST, UTC-8)
NOW = datetime(2026, 11, 24, 22, 0, tzinfo=timezone.utc)


def local(text: str, now: datetime = NOW, language: str | None = None) -> tuple[str, bool]:
    when = parse_when(text, now, TZ, language=language)
    assert when is not None, text
    return when.at.astimezone(LA).strftime("%Y-%m-%d %H:%M"), when.approximate


@pytest.mark.parametrize("text, expected, approximate", [
    # now
    ("right now", "2026-11-24 14:00", False),
    ("someone is in my yard right now", "2026-11-24 14:00", False),
    ("ahora", "2026-11-24 14:00", False),
    ("ahorita", "2026-11-24 14:00", False),
    ("ahora mismo", "2026-11-24 14:00", False),
    # today and its parts
    ("today", "2026-11-24 12:00", True),
    ("hoy", "2026-11-24 12:00", True),
    ("this morning", "2026-11-24 09:00", True),
    ("esta mañana", "2026-11-24 09:00", True),
    ("esta manana", "2026-11-24 09:00", True),
    ("this morning around 7", "2026-11-24 07:00", True),
    ("this morning at 7am", "2026-11-24 07:00", False),
    ("hoy en la mañana a las 8", "2026-11-24 08:00", False),
    ("this afternoon at 1", "2026-11-24 13:00", False),
    ("esta tarde a la una", "2026-11-24 13:00", False),
    # last night / yesterday
    ("last night", "2026-11-23 22:00", True),
    ("anoche", "2026-11-23 22:00", True),
    ("last nite", "2026-11-23 22:00", True),
    ("last night at 11pm", "2026-11-23 23:00", False),
    ("last night around 11", "2026-11-23 23:00", True),
    ("last night at 2am", "2026-11-24 02:00", False),
    ("anoche como a las 2", "2026-11-24 02:00", True),
    ("anoche a las 2 de la madrugada", "2026-11-24 02:00", False),
    ("last night at midnight", "2026-11-24 00:00", False),
    ("yesterday", "2026-11-23 12:00", True),
    ("ayer", "2026-11-23 12:00", True),
    ("yesterdy", "2026-11-23 12:00", True),
    ("yesterday at 5pm", "2026-11-23 17:00", False),
    ("yesterday at 5 p.m.", "2026-11-23 17:00", False),
    ("ayer a las 5", "2026-11-23 17:00", True),
    ("ayer a las 5 de la tarde", "2026-11-23 17:00", False),
    ("ayer a las 5 de la mañana", "2026-11-23 05:00", False),
    ("ayer por la tarde", "2026-11-23 15:00", True),
    ("yesterday afternoon", "2026-11-23 15:00", True),
    ("yesterday at 17:45", "2026-11-23 17:45", False),
    ("the day before yesterday", "2026-11-22 12:00", True),
    ("anteayer", "2026-11-22 12:00", True),
    # ago
    ("2 hours ago", "2026-11-24 12:00", True),
    ("hace 2 horas", "2026-11-24 12:00", True),
    ("ase 2 horas", "2026-11-24 12:00", True),
    ("about two hours ago", "2026-11-24 12:00", True),
    ("an hour ago", "2026-11-24 13:00", True),
    ("hace una hora", "2026-11-24 13:00", True),
    ("half an hour ago", "2026-11-24 13:30", True),
    ("hace media hora", "2026-11-24 13:30", True),
    ("20 minutes ago", "2026-11-24 13:40", True),
    ("hace 20 minutos", "2026-11-24 13:40", True),
    ("a couple hours ago", "2026-11-24 12:00", True),
    ("3 days ago", "2026-11-21 14:00", True),
    ("hace 3 dias", "2026-11-21 14:00", True),
    ("a week ago", "2026-11-17 14:00", True),
    ("2 days ago at 9pm", "2026-11-22 21:00", False),
    ("hace un rato", "2026-11-24 13:00", True),
    ("earlier today", "2026-11-24 13:00", True),
    # weekdays: the most recent past one
    ("monday", "2026-11-23 12:00", True),
    ("el lunes", "2026-11-23 12:00", True),
    ("sunday night", "2026-11-22 22:00", True),
    ("el domingo en la noche a las 10", "2026-11-22 22:00", False),
    ("saturday morning", "2026-11-21 09:00", True),
    ("el sábado por la mañana", "2026-11-21 09:00", True),
    ("friday at 3pm", "2026-11-20 15:00", False),
    ("el viernes a las 3 de la tarde", "2026-11-20 15:00", False),
    ("wensday", "2026-11-18 12:00", True),
    ("tuesday", "2026-11-17 12:00", True),      # said on a Tuesday: a week ago
    ("last tuesday", "2026-11-17 12:00", True),
    ("el martes pasado", "2026-11-17 12:00", True),
    # dates
    ("11/20", "2026-11-20 12:00", True),
    ("11/20/2026", "2026-11-20 12:00", True),
    ("11/20/26", "2026-11-20 12:00", True),
    ("11-20-2026", "2026-11-20 12:00", True),
    ("nov 20", "2026-11-20 12:00", True),
    ("november 20th at 3pm", "2026-11-20 15:00", False),
    ("20 de noviembre", "2026-11-20 12:00", True),
    ("el 20 de noviembre a las 3 de la tarde", "2026-11-20 15:00", False),
    ("20 nov", "2026-11-20 12:00", True),
    ("on the 20th", "2026-11-20 12:00", True),
    ("12/25", "2025-12-25 12:00", True),        # no year, still to come: last year's
    ("on the 30th", "2026-10-30 12:00", True),  # this month's is still to come: last month's
    # times of day alone: the most recent one that has passed
    ("at 3", "2026-11-24 03:00", True),
    ("3pm", "2026-11-23 15:00", False),
    ("at 1pm", "2026-11-24 13:00", False),
    ("15:30", "2026-11-23 15:30", False),
    ("13:15", "2026-11-24 13:15", False),
    ("at 1:30", "2026-11-24 13:30", True),
    ("around 3 am", "2026-11-24 03:00", True),
    ("3ish", "2026-11-24 03:00", True),
    ("como a las 3", "2026-11-24 03:00", True),
    ("a la una", "2026-11-24 13:00", True),
    ("a las 3 de la madrugada", "2026-11-24 03:00", False),
    ("3 in the morning", "2026-11-24 03:00", False),
    ("at noon", "2026-11-24 12:00", False),
    ("al mediodia", "2026-11-24 12:00", False),
    ("at midnight", "2026-11-24 00:00", False),
    ("a medianoche", "2026-11-24 00:00", False),
    ("at three pm", "2026-11-23 15:00", False),
])
def test_phrases(text: str, expected: str, approximate: bool) -> None:
    assert local(text) == (expected, approximate)


@pytest.mark.parametrize("text", [
    "my car was broken into",
    "hola",
    "",
    "good morning, my bike was stolen",     # a greeting is not a time
    "buenos dias, me robaron",
    "i called at once",
    "open 24-7",
    "my report number is 24-00123",
    "call 503-555-0142",
    "at 3rd and main",
    "at 12 main st",
    "someone broke in around 2 cars",
])
def test_no_time_is_none(text: str) -> None:
    assert parse_when(text, NOW, TZ) is None


@pytest.mark.parametrize("text", ["tomorrow", "tmrw", "mañana", "manana", "mañana en la mañana", "12/25/2026",
                                  "dec 25, 2026", "25 de diciembre de 2026"])
def test_a_named_future_day_is_rejected(text: str) -> None:
    assert parse_when(text, NOW, TZ) is None


@pytest.mark.parametrize("text, now_local", [
    ("tonight", "2026-11-24 14:00"),
    ("esta noche", "2026-11-24 14:00"),
    ("this afternoon", "2026-11-24 14:00"),      # 3 PM default, said at 2 PM
    ("today at 9pm", "2026-11-24 14:00"),
    ("this morning", "2026-11-24 07:00"),        # 9 AM default, said at 7 AM
    ("this morning at 9", "2026-11-24 07:00"),
    ("hoy a las 10 de la noche", "2026-11-24 14:00"),
])
def test_a_time_still_to_come_today_is_clamped_to_now(text: str, now_local: str) -> None:
    now = datetime.strptime(now_local, "%Y-%m-%d %H:%M").replace(tzinfo=LA).astimezone(timezone.utc)
    when = parse_when(text, now, TZ)
    assert when is not None
    assert when.at == now and when.approximate


PHRASES = [
    "right now", "today", "this morning", "this afternoon", "tonight", "last night", "yesterday at 5pm",
    "ayer a las 5", "2 hours ago", "hace 2 horas", "monday", "el sabado en la noche", "11/20", "nov 20",
    "20 de noviembre", "at 3", "3pm", "15:30", "around 3 am", "at 11:45 pm", "a las 11 de la noche",
    "last night at 2am", "anoche a las 2", "at midnight", "at noon", "12/31", "the 28th", "3 days ago",
    "esta noche a las 11", "this morning at 11:59",
]


@pytest.mark.parametrize("text", PHRASES)
def test_never_in_the_future(text: str) -> None:
    """Every 7 hours and 13 minutes through 2026 (both DST changes, month and year ends)."""
    now = datetime(2026, 1, 1, 0, 0, tzinfo=timezone.utc)
    while now.year == 2026:
        when = parse_when(text, now, TZ)
        assert when is not None
        assert when.at <= now, (text, now)
        assert when.at.utcoffset() == timedelta(0)
        now += timedelta(hours=7, minutes=13)


# -- daylight saving time ------------------------------------------------------------------------

# Sunday 1 November 2026: at 2:00 AM PDT clocks go back to 1:00 AM PST.
FALL_NOON = datetime(2026, 11, 1, 20, 0, tzinfo=timezone.utc)     # 12:00 PST
# Sunday 8 March 2026: at 2:00 AM PST clocks go forward to 3:00 AM PDT.
SPRING_NOON = datetime(2026, 3, 8, 19, 0, tzinfo=timezone.utc)    # 12:00 PDT


def utc(text: str, now: datetime) -> datetime:
    when = parse_when(text, now, TZ)
    assert when is not None
    return when.at


@pytest.mark.parametrize("text, expected", [
    ("last night", datetime(2026, 11, 1, 5, 0, tzinfo=timezone.utc)),           # Oct 31 22:00 PDT
    ("yesterday at 5pm", datetime(2026, 11, 1, 0, 0, tzinfo=timezone.utc)),     # Oct 31 17:00 PDT
    ("this morning at 9", datetime(2026, 11, 1, 17, 0, tzinfo=timezone.utc)),   # Nov 1 09:00 PST
    ("2 hours ago", datetime(2026, 11, 1, 18, 0, tzinfo=timezone.utc)),         # elapsed time, not wall clock
    ("at 3 am", datetime(2026, 11, 1, 11, 0, tzinfo=timezone.utc)),             # 03:00 PST
    ("at 1:30 am", datetime(2026, 11, 1, 9, 30, tzinfo=timezone.utc)),          # the second 1:30 (PST)
    ("hace 3 dias", datetime(2026, 10, 29, 19, 0, tzinfo=timezone.utc)),       # Oct 29 12:00 PDT
])
def test_fall_back_day(text: str, expected: datetime) -> None:
    assert utc(text, FALL_NOON) == expected


def test_the_repeated_hour_is_the_one_that_has_passed() -> None:
    during_first = datetime(2026, 11, 1, 8, 45, tzinfo=timezone.utc)   # 1:45 AM PDT, first time round
    when = parse_when("at 1:30 am", during_first, TZ)
    assert when is not None and when.at == datetime(2026, 11, 1, 8, 30, tzinfo=timezone.utc) and when.approximate
    during_second = datetime(2026, 11, 1, 9, 45, tzinfo=timezone.utc)  # 1:45 AM PST, second time round
    assert utc("at 1:30 am", during_second) == datetime(2026, 11, 1, 9, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, expected", [
    ("last night", datetime(2026, 3, 8, 6, 0, tzinfo=timezone.utc)),            # Mar 7 22:00 PST
    ("yesterday at 5pm", datetime(2026, 3, 8, 1, 0, tzinfo=timezone.utc)),      # Mar 7 17:00 PST
    ("this morning at 9", datetime(2026, 3, 8, 16, 0, tzinfo=timezone.utc)),    # Mar 8 09:00 PDT
    ("2 hours ago", datetime(2026, 3, 8, 17, 0, tzinfo=timezone.utc)),
    ("at 1:30 am", datetime(2026, 3, 8, 9, 30, tzinfo=timezone.utc)),           # 01:30 PST
    ("at 2:30 am", datetime(2026, 3, 8, 10, 30, tzinfo=timezone.utc)),          # no 2:30 that day: 3:30 PDT
    ("anoche a las 2 de la madrugada", datetime(2026, 3, 8, 10, 0, tzinfo=timezone.utc)),  # 3:00 PDT
])
def test_spring_forward_day(text: str, expected: datetime) -> None:
    assert utc(text, SPRING_NOON) == expected


@pytest.mark.parametrize("text, now", [
    ("at 2:30 am", SPRING_NOON),                                             # did not exist
    ("this morning at 2:30 am", SPRING_NOON),
    ("yesterday at 1:30 am", datetime(2026, 11, 2, 20, 0, tzinfo=timezone.utc)),  # happened twice
])
def test_a_wall_time_made_odd_by_dst_is_approximate(text: str, now: datetime) -> None:
    when = parse_when(text, now, TZ)
    assert when is not None and when.approximate
    exact = parse_when(text.replace("1:30", "4:30").replace("2:30", "4:30"), now, TZ)
    assert exact is not None and not exact.approximate


# -- arguments and values --------------------------------------------------------------------------

def test_naive_now_is_read_as_utc_like_stored_timestamps() -> None:
    assert parse_when("2 hours ago", NOW.replace(tzinfo=None), TZ) == parse_when("2 hours ago", NOW, TZ)


def test_now_in_another_zone_is_the_same_instant() -> None:
    other = NOW.astimezone(ZoneInfo("Asia/Tokyo"))
    assert parse_when("last night", other, TZ) == parse_when("last night", NOW, TZ)


@pytest.mark.parametrize("text, language, expected", [
    ("3/4", None, "2026-03-04 12:00"),
    ("3/4", "es", "2026-04-03 12:00"),
    ("20/11", None, "2026-11-20 12:00"),     # month 20 cannot be: day first
    ("11/20", "en", "2026-11-20 12:00"),
])
def test_numeric_dates_follow_the_language(text: str, language: str | None, expected: str) -> None:
    assert local(text, language=language)[0] == expected


@pytest.mark.parametrize("text, understood", [
    ("hi, my car was broken into last night around 11", "last night around 11"),
    ("me robaron el carro ayer a las 5 de la tarde", "ayer a las 5 de la tarde"),
    ("someone hit my car 2 hours ago", "2 hours ago"),
    ("Esta Mañana", "Esta Mañana"),
    ("yesterday at 5 p.m.", "yesterday at 5 p.m."),
])
def test_text_is_what_was_understood(text: str, understood: str) -> None:
    when = parse_when(text, NOW, TZ)
    assert when is not None and when.text == understood


@pytest.mark.parametrize("text, language, expected", [
    ("yesterday at 5pm", "en", "Mon Nov 23, 5:00 PM"),
    ("last night", "en", "Mon Nov 23, around 10:00 PM"),
    ("ayer a las 5 de la tarde", "es", "lun 23 nov, 5:00 PM"),
    ("el sabado en la noche", "es", "sab 21 nov, aprox. 10:00 PM"),
])
def test_describe_is_short_and_gsm7(text: str, language: str, expected: str) -> None:
    when = parse_when(text, NOW, TZ)
    assert when is not None
    assert when.describe(TZ, language) == expected
    assert is_gsm7(expected)


def test_a_when_survives_a_slot_round_trip() -> None:
    when = parse_when("anoche como a las 2", NOW, TZ)
    assert when is not None
    assert When.from_dict(json.loads(json.dumps(when.as_dict()))) == when

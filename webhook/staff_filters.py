"""Query-string filters shared by the staff lists (reports, conversations, audit log): each is
optional, and a malformed one is a 400, never a 500 or a silent "everything"."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Mapping
from zoneinfo import ZoneInfo

from flask import abort

YES = ("1", "yes", "true", "on")
NO = ("0", "no", "false", "off")
MAX_PAGE = 10_000


def date_arg(text: str, name: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        abort(400, description=f"{name} must be a date like 2026-11-24")
    if not 1970 <= day.year <= 9998:  # keeps the UTC conversion (and the day after) in range
        abort(400, description=f"{name} is out of range")
    return day


def utc_midnight(day: date, zone: str) -> datetime:
    """The start of a local calendar day, as the naive UTC the database stores."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(timezone.utc).replace(tzinfo=None)


def day_range(args: Mapping[str, str], zone: str, kept: dict[str, str]) -> tuple[datetime | None, datetime | None]:
    """`from` and `to` (inclusive local days) as a naive-UTC [start, end) range."""
    start = end = None
    first = (args.get("from") or "").strip()
    if first:
        start = utc_midnight(date_arg(first, "from"), zone)
        kept["from"] = first
    last = (args.get("to") or "").strip()
    if last:
        end = utc_midnight(date_arg(last, "to") + timedelta(days=1), zone)
        kept["to"] = last
    return start, end


def yes_no(args: Mapping[str, str], name: str, kept: dict[str, str]) -> bool | None:
    value = (args.get(name) or "").strip().lower()
    if value in YES:
        kept[name] = "yes"
        return True
    if value in NO:
        kept[name] = "no"
        return False
    if value:
        abort(400, description=f"{name} must be yes or no")
    return None


def page_arg(args: Mapping[str, str]) -> int:
    text = (args.get("page") or "1").strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        abort(400, description="page must be a number")
    return int(text)

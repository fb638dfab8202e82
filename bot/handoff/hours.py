"""When staff read handed-off conversations (department profile, `staff_hours`).

The assistant tells a resident whether someone is in now; outside these hours it says when
staff reply (the station hours text) and to call 911 in an emergency.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timezone
from typing import Any, Mapping
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class HoursError(ValueError):
    pass


def _clock_time(value: Any, name: str) -> time:
    try:
        hours, minutes = str(value).strip().split(":")
        return time(int(hours), int(minutes))
    except (ValueError, TypeError):
        raise HoursError(f"department profile: staff_hours.{name} must look like 08:00, not {value!r}") from None


@dataclass(frozen=True)
class StaffHours:
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> "StaffHours":
        """Missing: Monday to Friday, 8 to 5 (what most records and community offices keep)."""
        data = data or {}
        names = [str(d).strip().lower()[:3] for d in (data.get("days") or DAYS[:5])]
        unknown = [d for d in names if d not in DAYS]
        if unknown:
            raise HoursError(f"department profile: staff_hours.days has unknown days {unknown}")
        start = _clock_time(data.get("from", "08:00"), "from")
        end = _clock_time(data.get("to", "17:00"), "to")
        if end <= start:
            raise HoursError("department profile: staff_hours.to must be after staff_hours.from")
        return cls(frozenset(DAYS.index(d) for d in names), start, end)

    def staffed(self, now_utc: datetime, zone: str) -> bool:
        """`now_utc` is naive UTC, like every stored time."""
        local = now_utc.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(zone))
        return local.weekday() in self.days and self.start <= local.time().replace(tzinfo=None) < self.end

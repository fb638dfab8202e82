"""Time, injectable so tests drive it instead of sleeping."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Naive UTC, the way every timestamp is stored."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc).replace(tzinfo=None)

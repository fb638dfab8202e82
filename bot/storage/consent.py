"""The opt-out ledger, checked on every outbound path."""
from __future__ import annotations

from bot.clock import Clock
from bot.storage.database import Database
from bot.storage.models import OptOut


class ConsentStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def is_opted_out(self, address_hash: str) -> bool:
        with self._db.session() as session:
            row = session.get(OptOut, address_hash)
            return bool(row and row.opted_out)

    def set_opted_out(self, address_hash: str, opted_out: bool, keyword: str | None) -> None:
        with self._db.session() as session:
            row = session.get(OptOut, address_hash)
            if row is None:
                session.add(OptOut(address_hash=address_hash, opted_out=opted_out, keyword=keyword,
                                   changed_at=self._clock.now()))
            else:
                row.opted_out = opted_out
                row.keyword = keyword
                row.changed_at = self._clock.now()

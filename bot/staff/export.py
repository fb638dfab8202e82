"""Transcript exports: JSON and CSV (spreadsheet-safe). Personal data is redacted unless the
supervisor exporting chose otherwise; the caller writes the audit entry either way."""
from __future__ import annotations

import csv
import io
import json
from typing import Any, Sequence

from bot.staff.transcript import Entry, contact
from bot.storage.models import Conversation

COLUMNS = ["time_utc", "kind", "who", "text", "intent", "confidence", "status", "media"]


def cell(value: object) -> str:
    """No spreadsheet formulas from resident-typed text (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _row(entry: Entry) -> dict[str, Any]:
    return {"time_utc": entry.at.isoformat(timespec="seconds") + "Z", "kind": entry.kind, "who": entry.who,
            "text": entry.text, "intent": entry.intent,
            "confidence": round(entry.confidence, 3) if entry.confidence is not None else None,
            "status": entry.status, "media": entry.media}


def as_json(conversation: Conversation, entries: Sequence[Entry], level: str) -> str:
    return json.dumps({
        "conversation": conversation.id, "channel": conversation.channel, "language": conversation.language,
        "contact": contact(conversation, level), "personal_data": level,
        "entries": [_row(e) for e in entries],
    }, ensure_ascii=False, indent=2)


def as_csv(entries: Sequence[Entry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for entry in entries:
        row = _row(entry)
        writer.writerow([cell(row[column]) for column in COLUMNS])
    return out.getvalue()

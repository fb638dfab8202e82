"""Transcripts as staff read them: order, masking, redaction, reveal; exports (JSON, CSV)."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

from bot.staff import export, transcript
from bot.staff.transcript import MASKED, REDACTED, REVEALED, Entry
from bot.storage.models import Conversation, Handoff, Message, StaffNote

T0 = datetime(2026, 11, 24, 17, 0)
NUMBER = "+15035550142"


def _conversation(channel: str = "sms") -> Conversation:
    return Conversation(id=7, channel=channel, address_hash="h" * 40, address=NUMBER, language="en", flagged=False,
                        created_at=T0, updated_at=T0)


def _message(i: int, direction: str, text: str, author: str = "resident", **extra: object) -> Message:
    return Message(id=i, conversation_id=7, channel="sms", direction=direction, author=author, text=text,
                   status=extra.pop("status", "processed"), num_media=extra.pop("num_media", 0),
                   created_at=T0 + timedelta(minutes=i), updated_at=T0, **extra)


def _entries() -> list[Entry]:
    messages = [
        _message(1, "in", "hi, call me at (503) 555-0199 or mail ana.r@example.org", intent="greet", confidence=0.91),
        _message(2, "out", "Hello! How can I help?", author="assistant", status="sent"),
        _message(3, "in", "Ana Rivera", intent="inform_name", confidence=0.99),
        _message(4, "in", "=HYPERLINK(\"http://evil\")", intent="nlu_fallback", confidence=0.2),
        _message(5, "out", "Officer Diaz here.", author="staff", status="sent"),
        _message(6, "in", "someone is breaking in", safety="emergency"),
        _message(11, "in", "my dad fell and can't get up", safety="possible_emergency"),
    ]
    handoff = Handoff(id=3, conversation_id=7, reason="requested", priority=3, holds=True, state="resolved",
                      created_at=T0 + timedelta(minutes=4), claimed_at=T0 + timedelta(minutes=4, seconds=30),
                      assigned_to=2, resolved_at=T0 + timedelta(minutes=10), resolved_by="diaz", updated_at=T0)
    note = StaffNote(id=1, conversation_id=7, author="diaz", text="Called back on +1 503 555 0177", created_at=T0 + timedelta(minutes=5))
    return transcript.build(messages, [note], [handoff], names={2: "diaz"}, replied_by={5: "diaz"})


def test_everything_in_time_order_with_who_and_what_the_assistant_understood() -> None:
    entries = _entries()
    assert [e.kind for e in entries] == ["resident", "assistant", "resident", "resident", "event", "event",
                                         "staff", "note", "resident", "event", "resident"]
    assert entries[0].intent == "greet" and entries[0].confidence == 0.91
    assert entries[5].text == "Claimed" and entries[5].who == "diaz"
    assert entries[6].who == "diaz" and entries[6].status == "sent"
    assert entries[8].status == "flagged: emergency"
    assert entries[9].text.startswith("Resolved") and entries[9].who == "diaz"
    assert entries[10].status == "safety event: possible emergency"  # the 911 line was added, no takeover


def test_masked_keeps_the_last_four_digits_and_hides_names_and_email() -> None:
    shown = transcript.shown(_entries(), MASKED)
    assert shown[0].text == "hi, call me at ***-***-0199 or mail [email]"
    assert shown[2].text == "[name]"
    assert "0177" in shown[7].text and "555 0177" not in shown[7].text  # staff notes too
    assert transcript.contact(_conversation(), MASKED) == "***-***-0142"


def test_redacted_keeps_nothing_and_revealed_keeps_everything() -> None:
    redacted = transcript.shown(_entries(), REDACTED)
    assert redacted[0].text == "hi, call me at [phone] or mail [email]" and redacted[2].text == "[name]"
    assert transcript.contact(_conversation(), REDACTED) == "[phone]"
    revealed = transcript.shown(_entries(), REVEALED)
    assert "(503) 555-0199" in revealed[0].text and revealed[2].text == "Ana Rivera"
    assert transcript.contact(_conversation(), REVEALED) == NUMBER
    assert transcript.contact(_conversation("web"), REVEALED) == "web chat"


def test_numbers_people_type_are_caught_and_other_numbers_are_not() -> None:
    for text in ("503-555-0199", "5035550199", "+1 (503) 555-0199", "503.555.0199", "+44 20 7946 0958"):
        assert "[phone]" == transcript.hide(text, REDACTED), text
    for text in ("report R-1042", "on 2026-11-24 at 10:30", "zip 97201", "I saw 3 cars"):
        assert transcript.hide(text, REDACTED) == text, text


def test_json_export_says_what_was_hidden() -> None:
    data = json.loads(export.as_json(_conversation(), transcript.shown(_entries(), REDACTED), REDACTED))
    assert data["contact"] == "[phone]" and data["personal_data"] == "redacted"
    assert NUMBER not in json.dumps(data) and "555-0199" not in json.dumps(data) and "Ana Rivera" not in json.dumps(data)
    assert data["entries"][0] == {"time_utc": "2026-11-24T17:01:00Z", "kind": "resident", "who": "",
                                  "text": "hi, call me at [phone] or mail [email]", "intent": "greet",
                                  "confidence": 0.91, "status": "", "media": 0}


def test_csv_export_is_spreadsheet_safe() -> None:
    rows = list(csv.reader(io.StringIO(export.as_csv(transcript.shown(_entries(), REDACTED)))))
    assert rows[0] == export.COLUMNS
    formula = next(r for r in rows if "HYPERLINK" in r[3])
    assert formula[3].startswith("'=")
    assert all("555-0199" not in cell for row in rows for cell in row)

"""The retention job on the real database: old transcripts redacted or purged, in batches;
open handoffs and unanswered messages left alone; the audit log records counts, not content."""
from __future__ import annotations

from typing import Callable

import pytest

from bot.services import Services
from bot.staff import retention as retention_module
from bot.staff.retention import REDACTED_TEXT, Retention
from bot.storage.models import HandoffReason
from tests.conftest import MutableClock

SECRET = "my code is 4471 and I live at 12 Elm St"


def _old_conversation(services: Services, clock: MutableClock, number: str, texts: int = 3) -> int:
    conversation = services.conversations.get_or_create("sms", f"h-{number}", number)
    for i in range(texts):
        message, _ = services.messages.record_inbound(conversation.id, "sms", f"{SECRET} #{i}", f"SM{number}{i}")
        services.messages.mark_processed(message.id)
        services.outbound.send(conversation, f"answer {i}")
    services.notes.add(conversation.id, "ana", f"note about {SECRET}")
    return conversation.id


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock()


def _texts(services: Services, conversation_id: int) -> list[str]:
    return [m.text for m in services.messages.transcript(conversation_id)] + [
        n.text for n in services.notes.for_conversation(conversation_id)]


@pytest.mark.parametrize("mode", ["redact", "purge"])
def test_old_transcripts_go_new_ones_stay(make_services: Callable[..., Services], clock: MutableClock, mode: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention_module, "BATCH", 2)  # several batches with a handful of rows
    services = make_services(clock, retention_days=30, retention_mode=mode)
    old = _old_conversation(services, clock, "+15035550001")
    held = _old_conversation(services, clock, "+15035550002")
    services.handoffs.start(held, HandoffReason.REQUESTED)
    pending, _ = services.messages.record_inbound(old, "sms", "unanswered " + SECRET, "SMpending")
    clock.advance(days=31)
    fresh = _old_conversation(services, clock, "+15035550003")

    result = services.retention.run()

    assert (result.messages, result.notes) == (6, 1)
    remaining = _texts(services, old)
    if mode == "redact":
        assert remaining.count(REDACTED_TEXT) == 7 and len(remaining) == 8
    else:
        assert len(remaining) == 1
    assert remaining[-1 if mode == "purge" else 6] == "unanswered " + SECRET  # a worker still owes it an answer
    assert all(SECRET in t or t.startswith("answer") for t in _texts(services, held))  # staff are reading it
    assert all(SECRET in t or t.startswith("answer") for t in _texts(services, fresh))
    entry = services.audit.entries()[0]
    assert entry.actor == "system" and entry.action == "retention"
    assert entry.detail == f"mode={mode} messages=6 notes=1 before=2026-11-25"
    assert services.retention.run().messages == 0  # done once
    assert len(services.audit.entries()) == 1  # an empty run records nothing


def test_zero_days_keeps_everything(make_services: Callable[..., Services], clock: MutableClock) -> None:
    services = make_services(clock, retention_days=0)
    conversation = _old_conversation(services, clock, "+15035550009")
    clock.advance(days=5000)
    assert services.retention.run().messages == 0
    assert SECRET in _texts(services, conversation)[0]


def test_the_sweeper_runs_retention_once_an_hour_across_replicas(
        make_services: Callable[..., Services], clock: MutableClock) -> None:
    from bot.sweeper import RETENTION_KEY, sweep

    services = make_services(clock, retention_days=30)
    services.redis.delete(RETENTION_KEY)
    conversation = _old_conversation(services, clock, "+15035550010")
    clock.advance(days=31)
    sweep(services)
    assert _texts(services, conversation)[0] == REDACTED_TEXT
    assert 3000 < services.redis.ttl(RETENTION_KEY) <= 3600


def test_a_bad_mode_is_refused() -> None:
    with pytest.raises(ValueError):
        Retention(None, MutableClock(), None, 30, "shred")  # type: ignore[arg-type]

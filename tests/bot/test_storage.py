"""Stores against SQLite and (in CI) PostgreSQL, both migrated by Alembic."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from bot.sms import Button
from bot.storage.consent import ConsentStore
from bot.storage.conversations import ConversationStore
from bot.storage.database import Database
from bot.storage.messages import MessageStore
from bot.storage.models import InboundStatus, OutboundStatus
from tests.conftest import MutableClock


def _stores(url: str, clock: MutableClock) -> tuple[Database, ConversationStore, MessageStore, ConsentStore]:
    db = Database(url)
    return db, ConversationStore(db, clock), MessageStore(db, clock), ConsentStore(db, clock)


def test_a_new_resident_seen_by_many_processes_at_once_gets_one_conversation(database_url: str) -> None:
    clock = MutableClock()
    db, conversations, _, _ = _stores(database_url, clock)
    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = set(pool.map(lambda _: conversations.get_or_create("sms", "hash-1", "+15035550111").id, range(12)))
    assert len(ids) == 1
    db.dispose()


def test_inbound_is_stored_once_per_external_id(database_url: str) -> None:
    clock = MutableClock()
    db, conversations, messages, _ = _stores(database_url, clock)
    conversation = conversations.get_or_create("sms", "hash-2", "+15035550112")
    first, created = messages.record_inbound(conversation.id, "sms", "hi", "SM1")
    again, created_again = messages.record_inbound(conversation.id, "sms", "hi", "SM1")
    assert created and not created_again and again.id == first.id
    assert [m.text for m in messages.transcript(conversation.id)] == ["hi"]
    db.dispose()


def test_pending_messages_come_back_oldest_first(database_url: str) -> None:
    clock = MutableClock()
    db, conversations, messages, _ = _stores(database_url, clock)
    conversation = conversations.get_or_create("sms", "hash-3", "+15035550113")
    ids = [messages.record_inbound(conversation.id, "sms", f"m{i}", f"SM-{i}")[0].id for i in range(3)]
    assert messages.next_pending(conversation.id).id == ids[0]
    messages.mark_processed(ids[0], intent="greet", confidence=0.9)
    assert messages.next_pending(conversation.id).id == ids[1]
    messages.mark_failed(ids[1], "boom")
    assert messages.next_pending(conversation.id).id == ids[2]
    stored = messages.get(ids[0])
    assert stored.status == InboundStatus.PROCESSED and stored.intent == "greet"
    db.dispose()


def test_stale_pending_finds_only_old_unfinished_messages(database_url: str) -> None:
    clock = MutableClock()
    db, conversations, messages, _ = _stores(database_url, clock)
    old = conversations.get_or_create("sms", "hash-old", "+15035550114")
    done = conversations.get_or_create("sms", "hash-done", "+15035550115")
    messages.record_inbound(old.id, "sms", "lost in a crash", "SM-old")
    finished, _ = messages.record_inbound(done.id, "sms", "handled", "SM-done")
    messages.mark_processed(finished.id)
    clock.advance(minutes=5)
    fresh = conversations.get_or_create("sms", "hash-new", "+15035550116")
    messages.record_inbound(fresh.id, "sms", "just arrived", "SM-new")
    assert list(messages.stale_pending_conversations(clock.now() - timedelta(minutes=2))) == [old.id]
    db.dispose()


def test_consent_ledger_round_trip(database_url: str) -> None:
    clock = MutableClock()
    db, _, _, consent = _stores(database_url, clock)
    assert not consent.is_opted_out("hash-4")
    consent.set_opted_out("hash-4", True, "STOP")
    assert consent.is_opted_out("hash-4")
    consent.set_opted_out("hash-4", False, "START")
    assert not consent.is_opted_out("hash-4")
    db.dispose()


def test_menu_language_and_flag_are_kept_on_the_conversation(database_url: str) -> None:
    clock = MutableClock()
    db, conversations, _, _ = _stores(database_url, clock)
    conversation = conversations.get_or_create("sms", "hash-5", "+15035550117")
    conversations.set_menu(conversation.id, [Button("Meetings", "/list_meetings")])
    conversations.set_language(conversation.id, "es")
    conversations.flag(conversation.id, "emergency")
    stored = conversations.get(conversation.id)
    assert ConversationStore.menu_of(stored) == [Button("Meetings", "/list_meetings")]
    assert stored.language == "es" and stored.flagged and stored.flag_reason == "emergency"
    conversations.set_menu(conversation.id, None)
    assert ConversationStore.menu_of(conversations.get(conversation.id)) == []
    db.dispose()


def test_outbound_status_updates_by_provider_id(database_url: str) -> None:
    clock = MutableClock()
    db, conversations, messages, _ = _stores(database_url, clock)
    conversation = conversations.get_or_create("sms", "hash-6", "+15035550118")
    out = messages.record_outbound(conversation.id, "sms", "assistant", "hello", OutboundStatus.QUEUED)
    messages.update_outbound(out.id, OutboundStatus.SENT, external_id="SMabc")
    updated = messages.update_status_by_external_id("sms", "SMabc", OutboundStatus.DELIVERED)
    assert updated is not None and messages.get(out.id).status == OutboundStatus.DELIVERED
    assert messages.update_status_by_external_id("sms", "SMunknown", OutboundStatus.DELIVERED) is None
    db.dispose()


def test_a_forked_process_never_uses_the_parents_pooled_connection(database_url: str) -> None:
    """A process forked after connecting (gunicorn --preload, RQ's forking Worker): the child
    must open its own connection (SQLAlchemy's pool recipe), not talk on the parent's socket.
    Each connection records the pid that opened it."""
    import os

    from sqlalchemy import text

    database = Database(database_url)
    try:
        with database.engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
            assert conn.connection.info["pid"] == os.getpid()
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # the child: report whose connection it got, and whether it works
            answer = "error"
            try:
                with database.engine.connect() as conn:
                    mine = conn.connection.info["pid"] == os.getpid()
                    answer = f"{conn.execute(text('SELECT 41 + 1')).scalar()} {mine}"
            finally:
                os.write(write, answer.encode())
                os._exit(0)
        os.close(write)
        _, status = os.waitpid(child, 0)
        assert os.read(read, 100).decode() == "42 True" and status == 0
        with database.engine.connect() as conn:  # the parent's connection still works
            assert conn.connection.info["pid"] == os.getpid()
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        database.dispose()


def test_sessions_inside_one_connection_share_it_and_each_still_commits(database_url: str) -> None:
    """A worker's message takes several short transactions on one connection (one checkout,
    one liveness ping); each is committed on its own, and a session opened inside another one
    gets a connection of its own, as it would without the pin."""
    from sqlalchemy import text

    database = Database(database_url)
    conversations = ConversationStore(database, MutableClock())
    try:
        with database.one_connection():
            with database.session() as first:
                used = first.connection().connection.dbapi_connection
            conversation = conversations.get_or_create("sms", "hash-pinned", "+15035550111")
            with database.session() as second:
                assert second.connection().connection.dbapi_connection is used
                with database.session() as inner:  # nested: the pin is in a transaction
                    assert inner.connection().connection.dbapi_connection is not used
                    assert inner.execute(text("SELECT count(*) FROM conversations")).scalar() == 1
        other = Database(database_url)  # committed: another engine sees it
        try:
            assert ConversationStore(other, MutableClock()).get(conversation.id).address_hash == "hash-pinned"
        finally:
            other.dispose()
    finally:
        database.dispose()


def test_sessions_inside_one_transaction_are_committed_together_or_not_at_all(database_url: str) -> None:
    """A worker reads what a turn needs, and records a turn's replies, in one transaction each:
    one commit for several stores' sessions; nothing is seen by others before the end, and
    nothing is kept if the block fails."""
    from sqlalchemy import event

    database = Database(database_url)
    clock = MutableClock()
    conversations, messages = ConversationStore(database, clock), MessageStore(database, clock)
    other = Database(database_url)
    commits: list[object] = []
    event.listen(database.engine, "commit", lambda connection: commits.append(connection))
    try:
        with database.transaction():
            conversation = conversations.get_or_create("sms", "hash-unit", "+15035550112")
            messages.record_inbound(conversation.id, "sms", "hello", "SM-unit-1")
            conversations.set_language(conversation.id, "es")
            assert ConversationStore(other, clock).find("sms", "hash-unit") is None  # not yet committed
            assert conversations.get(conversation.id).language == "es"  # but seen inside
        assert len(commits) == 1
        assert ConversationStore(other, clock).get(conversation.id).language == "es"

        try:
            with database.transaction():
                messages.record_inbound(conversation.id, "sms", "lost", "SM-unit-2")
                conversations.set_language(conversation.id, "en")
                raise RuntimeError("the turn failed")
        except RuntimeError:
            pass
        assert [m.text for m in messages.transcript(conversation.id)] == ["hello"]
        assert conversations.get(conversation.id).language == "es"
    finally:
        other.dispose()
        database.dispose()

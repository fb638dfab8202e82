"""Fixtures of the bot/ storage tests: a database (SQLite, and PostgreSQL in CI) and residents.
Each test module defines its own `clock` (its own "now")."""
from __future__ import annotations

import itertools
from typing import Callable, Iterator

import pytest

from bot.reports.store import ReportStore
from bot.storage.conversations import ConversationStore
from bot.storage.database import Database
from tests.conftest import MutableClock


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def resident(db: Database, clock: MutableClock) -> Callable[[], int]:
    """Makes a new resident (conversation) and returns its id."""
    conversations = ConversationStore(db, clock)
    numbers = itertools.count(1)

    def make() -> int:
        n = next(numbers)
        return conversations.get_or_create("sms", f"hash-{n}", f"+1503555{n:04d}").id

    return make


@pytest.fixture
def store(db: Database, clock: MutableClock) -> ReportStore:
    """Reports in the test database (a module with another kind of store defines its own)."""
    return ReportStore(db, clock)

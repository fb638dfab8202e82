"""Engine and sessions. Created on demand, never at import time."""
from __future__ import annotations

import os
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker


def _one_process_per_connection(engine: Engine) -> None:
    """A process that forks after connecting (gunicorn with --preload, RQ's forking `Worker`,
    a test): a pooled connection opened by the parent must not be used by the child, or both
    talk on one socket. SQLAlchemy's recipe for pools and
    multiprocessing: remember the pid that opened each connection; a checkout in another
    process drops it from the pool (without closing the parent's socket) and connects anew."""

    @event.listens_for(engine, "connect")
    def _remember_pid(dbapi_connection: Any, record: Any) -> None:
        record.info["pid"] = os.getpid()

    @event.listens_for(engine, "checkout")
    def _same_process(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if record.info.get("pid") != os.getpid():
            record.dbapi_connection = proxy.dbapi_connection = None
            raise exc.DisconnectionError("connection opened by another process; reconnecting")


def make_engine(url: str) -> Engine:
    engine = _make_engine(url)
    _one_process_per_connection(engine)
    return engine


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, future=True, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - driver hook
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, future=True, pool_pre_ping=True, pool_size=5, max_overflow=5)


class Database:
    """A session factory bound to one engine.

    Each `session()` is its own transaction. Inside `one_connection()`, the sessions of this
    thread share one pooled connection instead of each checking one out: a resident's message
    takes several short transactions, and each checkout cost a liveness ping (a round trip to
    PostgreSQL) or, on SQLite, a new connection (`make bench`). Inside `transaction()`, they
    also share one transaction, committed once at its end."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, future=True, expire_on_commit=False)
        self._pinned: ContextVar[Connection | None] = ContextVar(f"pinned-{id(self)}", default=None)
        self._joined: ContextVar[bool] = ContextVar(f"joined-{id(self)}", default=False)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """The sessions opened inside are one transaction: committed when the block ends, rolled
        back if it raises. For a run of short reads and writes (each commit is a round trip, and
        a write's a flush of PostgreSQL's log), never around a call to another service (a
        transaction would stay open, holding its locks, for as long as that call takes), nor
        around code that catches a database error and goes on (on PostgreSQL, an error ends the
        whole transaction, the work before it included)."""
        if self._joined.get():
            yield
            return
        with self.one_connection():
            connection = self._pinned.get()
            assert connection is not None
            if connection.in_transaction():  # inside an open session: the sessions go on as without this
                yield
                return
            outer = connection.begin()
            token = self._joined.set(True)
            try:
                yield
            except BaseException:
                if outer.is_active:
                    outer.rollback()
                raise
            else:
                if outer.is_active:  # a session's rollback inside ended it already
                    outer.commit()
            finally:
                self._joined.reset(token)

    @contextmanager
    def one_connection(self) -> Iterator[None]:
        if self._pinned.get() is not None:
            yield
            return
        with self.engine.connect() as connection:
            token = self._pinned.set(connection)
            try:
                yield
            finally:
                self._pinned.reset(token)

    @contextmanager
    def session(self) -> Iterator[Session]:
        pinned = self._pinned.get()
        # Inside `transaction()`, a session joins it: its commit leaves that transaction open.
        # Otherwise, a session opened inside another one gets a connection of its own.
        if pinned is not None and not pinned.closed and (self._joined.get() or not pinned.in_transaction()):
            session = self._sessions(bind=pinned)
        else:
            session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()

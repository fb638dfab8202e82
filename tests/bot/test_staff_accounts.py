"""Staff accounts (Argon2id, lockout) and console sessions (idle and absolute timeouts), on the
real database and Redis."""
from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
import redis

from bot.settings import ROOT
from bot.staff.accounts import AccountError, StaffAccountStore
from bot.staff.sessions import PREFIX, SessionStore
from bot.storage.database import Database
from bot.storage.migrate import upgrade
from tests.conftest import MutableClock

PASSWORD = "correct horse battery"


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock()


@pytest.fixture
def accounts(db: Database, clock: MutableClock) -> StaffAccountStore:
    return StaffAccountStore(db, clock, lockout_failures=3, lockout_minutes=15)


@pytest.fixture
def sessions(redis_url: str, clock: MutableClock) -> SessionStore:
    return SessionStore(redis.Redis.from_url(redis_url), clock, idle=timedelta(minutes=30), absolute=timedelta(hours=10))


def test_passwords_are_argon2id_and_checked(accounts: StaffAccountStore) -> None:
    account = accounts.create("Ana", PASSWORD, "supervisor")
    assert account.username == "ana" and account.role == "supervisor"
    assert account.password_hash.startswith("$argon2id$") and PASSWORD not in account.password_hash
    assert accounts.sign_in("ana", PASSWORD).account is not None
    assert accounts.sign_in("ANA ", PASSWORD).account is not None
    assert accounts.sign_in("ana", PASSWORD + "x").account is None
    assert accounts.sign_in("nobody", PASSWORD).account is None


@pytest.mark.parametrize("username, password, role", [
    ("a", PASSWORD, "staff"), ("ana smith", PASSWORD, "staff"), ("ana", "short", "staff"),
    ("ana", "x" * 257, "staff"), ("ana", PASSWORD, "admin"),
])
def test_bad_accounts_are_refused(accounts: StaffAccountStore, username: str, password: str, role: str) -> None:
    with pytest.raises(AccountError):
        accounts.create(username, password, role)


def test_a_username_is_taken_once(accounts: StaffAccountStore) -> None:
    accounts.create("ana", PASSWORD)
    with pytest.raises(AccountError, match="already exists"):
        accounts.create("ANA", "another long password")


def test_repeated_failures_lock_the_account_then_time_or_a_reset_unlocks_it(
        accounts: StaffAccountStore, clock: MutableClock) -> None:
    accounts.create("ana", PASSWORD)
    accounts.create("ben", "another long password")
    assert not accounts.sign_in("ana", "wrong one").locked
    assert not accounts.sign_in("ana", "wrong two").locked
    assert accounts.sign_in("ana", "wrong three").locked
    refused = accounts.sign_in("ana", PASSWORD)  # the right password, during the lockout
    assert refused.account is None and refused.locked
    assert accounts.sign_in("ben", "another long password").account is not None  # others unaffected
    clock.advance(minutes=16)
    assert accounts.sign_in("ana", PASSWORD).account is not None
    for wrong in ("a", "b", "c"):
        accounts.sign_in("ana", wrong)
    assert accounts.sign_in("ana", PASSWORD).locked
    accounts.set_password("ana", "a brand new password")
    assert accounts.sign_in("ana", "a brand new password").account is not None


def test_a_success_resets_the_failure_count(accounts: StaffAccountStore) -> None:
    accounts.create("ana", PASSWORD)
    accounts.sign_in("ana", "wrong")
    accounts.sign_in("ana", "wrong")
    assert accounts.sign_in("ana", PASSWORD).account is not None
    accounts.sign_in("ana", "wrong")
    accounts.sign_in("ana", "wrong")
    assert accounts.sign_in("ana", PASSWORD).account is not None


def test_sessions_end_after_the_idle_timeout(sessions: SessionStore, clock: MutableClock) -> None:
    token = sessions.create(1, "ana", "staff")
    clock.advance(minutes=29)
    assert sessions.get(token) is not None  # used: the idle timer starts again
    clock.advance(minutes=29)
    assert sessions.get(token) is not None
    clock.advance(minutes=30)
    assert sessions.get(token) is None
    assert sessions.get(token) is None  # and it is gone for good


def test_sessions_end_at_the_absolute_timeout_however_busy(sessions: SessionStore, clock: MutableClock) -> None:
    token = sessions.create(1, "ana", "supervisor")
    for _ in range(20):  # 9 h 40 min of activity, a click every 29 minutes
        session = sessions.get(token)
        assert session is not None and session.supervisor
        clock.advance(minutes=29)
    assert sessions.get(token) is not None  # at 9 h 40 min
    clock.advance(minutes=21)
    assert sessions.get(token) is None  # at 10 h 01 min, though used 21 minutes ago


def test_redis_holds_only_a_hash_of_the_token_and_tokens_differ(sessions: SessionStore, redis_url: str) -> None:
    first, second = sessions.create(1, "ana", "staff"), sessions.create(1, "ana", "staff")
    assert first != second and len(first) >= 40
    keys = [k.decode() for k in redis.Redis.from_url(redis_url).keys(PREFIX + "*")]
    assert keys and all(first not in key and second not in key for key in keys)
    assert sessions.get(first).csrf != sessions.get(second).csrf  # type: ignore[union-attr]
    assert sessions.get("made-up-token") is None and sessions.get("") is None and sessions.get("x" * 500) is None


def test_signing_out_ends_one_session_and_end_all_ends_every_one(sessions: SessionStore) -> None:
    phone, desk, other = sessions.create(7, "ana", "staff"), sessions.create(7, "ana", "staff"), sessions.create(8, "ben", "staff")
    session = sessions.get(phone)
    assert session is not None
    sessions.end(session)
    assert sessions.get(phone) is None and sessions.get(desk) is not None
    sessions.end_all(7)
    assert sessions.get(desk) is None and sessions.get(other) is not None


def test_the_create_command_makes_an_account_that_signs_in(sqlite_url: str) -> None:
    env = {"DATABASE_URL": sqlite_url, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "bot.staff.accounts", "create", "dana", "--role", "supervisor"],
                          input="a long enough password\n", capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Created dana (supervisor)" in done.stdout
    again = subprocess.run([sys.executable, "-m", "bot.staff.accounts", "create", "dana"],
                           input="a long enough password\n", capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert again.returncode == 1 and "already exists" in again.stderr
    short = subprocess.run([sys.executable, "-m", "bot.staff.accounts", "create", "eve"],
                           input="short\n", capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert short.returncode == 1 and "12 characters" in short.stderr
    upgrade(sqlite_url)
    database = Database(sqlite_url)
    try:
        assert StaffAccountStore(database, MutableClock()).sign_in("dana", "a long enough password").account
    finally:
        database.dispose()

"""Staff accounts: Argon2id password hashes, roles, and lockout after repeated failures.

Create one with `make staff-account NAME=ana ROLE=supervisor` (asks for the password), or
`python -m bot.staff.accounts create ana --role supervisor`.
"""
from __future__ import annotations

import argparse
import getpass
import re
import sys
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.storage.database import Database
from bot.storage.models import StaffAccount

ROLES = ("staff", "supervisor")
MIN_PASSWORD = 12
MAX_PASSWORD = 256  # Argon2 takes any length; a megabyte "password" is a denial of service
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_HASHER = PasswordHasher()  # Argon2id with the library's recommended parameters
# Checked when the username is unknown, so a wrong name and a wrong password take the same time.
_DUMMY_HASH = _HASHER.hash("not-a-real-password-at-all")


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class SignIn:
    account: StaffAccount | None  # set only on success
    locked: bool = False  # refused because of a lockout (now or just started)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"use at most {MAX_PASSWORD} characters")


class StaffAccountStore:
    def __init__(self, db: Database, clock: Clock, lockout_failures: int = 5, lockout_minutes: int = 15) -> None:
        self._db = db
        self._clock = clock
        self._failures = lockout_failures
        self._lockout = timedelta(minutes=lockout_minutes)

    def create(self, username: str, password: str, role: str = "staff") -> StaffAccount:
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise AccountError("usernames are 2-64 lowercase letters, digits, dots, dashes or underscores")
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        check_password(password)
        now = self._clock.now()
        try:
            with self._db.session() as session:
                account = StaffAccount(username=username, password_hash=hash_password(password), role=role,
                                       active=True, failed_sign_ins=0, created_at=now, updated_at=now)
                session.add(account)
            return account
        except IntegrityError:
            raise AccountError(f"{username} already exists") from None

    def set_password(self, username: str, password: str) -> None:
        """Also lifts a lockout: a supervisor resetting a password is how a locked-out user gets back."""
        check_password(password)
        with self._db.session() as session:
            result = session.execute(update(StaffAccount).where(StaffAccount.username == username).values(
                password_hash=hash_password(password), failed_sign_ins=0, locked_until=None,
                updated_at=self._clock.now()))
            if result.rowcount != 1:
                raise AccountError(f"no account {username}")

    def get(self, account_id: int) -> StaffAccount | None:
        with self._db.session() as session:
            return session.get(StaffAccount, account_id)

    def by_username(self, username: str) -> StaffAccount | None:
        with self._db.session() as session:
            return session.execute(select(StaffAccount).where(
                StaffAccount.username == username.strip().lower())).scalar_one_or_none()

    def active(self) -> list[StaffAccount]:
        with self._db.session() as session:
            return list(session.execute(select(StaffAccount).where(StaffAccount.active.is_(True))
                                        .order_by(StaffAccount.username)).scalars())

    def sign_in(self, username: str, password: str) -> SignIn:
        """Checks the password in constant-ish time. `lockout_failures` wrong passwords in a row
        lock the account for `lockout_minutes`, during which even the right password fails."""
        now = self._clock.now()
        account = self.by_username(username) if len(username) <= 64 else None
        password = password[:MAX_PASSWORD + 1]
        try:
            _HASHER.verify(account.password_hash if account else _DUMMY_HASH, password)
            good = account is not None
        except (VerificationError, InvalidHashError):
            good = False
        if account is None or not account.active:
            return SignIn(None)
        if account.locked_until is not None and account.locked_until > now:
            return SignIn(None, locked=True)
        with self._db.session() as session:
            row = session.get(StaffAccount, account.id)
            assert row is not None
            if good:
                row.failed_sign_ins, row.locked_until, row.last_sign_in_at = 0, None, now
                if _HASHER.check_needs_rehash(row.password_hash):
                    row.password_hash = hash_password(password)
            else:
                row.failed_sign_ins += 1
                if row.failed_sign_ins >= self._failures:
                    row.locked_until, row.failed_sign_ins = now + self._lockout, 0
            row.updated_at = now
            locked_now = row.locked_until is not None and row.locked_until > now
        return SignIn(row if good else None, locked=locked_now)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.staff.accounts", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a staff account (asks for the password)")
    create.add_argument("username")
    create.add_argument("--role", choices=ROLES, default="staff")
    reset = commands.add_parser("password", help="set a new password (also lifts a lockout)")
    reset.add_argument("username")
    args = parser.parse_args(argv)

    if sys.stdin.isatty():
        password = getpass.getpass("Password (12+ characters): ")
        if getpass.getpass("Again: ") != password:
            print("The passwords differ.", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\n")

    from bot.clock import SystemClock
    from bot.settings import Settings
    from bot.storage.migrate import upgrade

    settings = Settings.from_env()
    upgrade(settings.database_url)
    store = StaffAccountStore(Database(settings.database_url), SystemClock())
    try:
        if args.command == "create":
            account = store.create(args.username, password, args.role)
            print(f"Created {account.username} ({account.role}).")
        else:
            store.set_password(args.username.strip().lower(), password)
            print(f"New password set for {args.username}.")
    except AccountError as exc:
        print(f"Not done: {exc}.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

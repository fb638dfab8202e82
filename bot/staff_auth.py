"""Staff sign-in for the staff pages: usernames with Argon2id password hashes.

Accounts come from STAFF_ACCOUNTS ("ana:$argon2id$...,ben:$argon2id$..."); create a hash with
`python -m bot.staff_auth` (asks for the password). No accounts: the staff pages are closed.
"""
from __future__ import annotations

import getpass
import re
import sys
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Accounts are separated by spaces, ";" or a "," that starts a new "name:"
# (the hashes themselves contain commas: "$argon2id$v=19$m=65536,t=3,p=4$...").
_SEPARATOR = re.compile(r"[\s;]+|,(?=\s*[^\s:,$=]*:)")
_HASHER = PasswordHasher()  # Argon2id with the library's current recommended parameters
# Checked when the username is unknown, so both cases take the same time.
_DUMMY_HASH = _HASHER.hash("not-a-real-password")


@dataclass(frozen=True)
class StaffAccounts:
    hashes: dict[str, str]

    @classmethod
    def parse(cls, setting: str | None) -> "StaffAccounts":
        hashes = {}
        for entry in _SEPARATOR.split(setting or ""):
            user, sep, hashed = entry.strip().partition(":")
            if sep and user and hashed.startswith("$argon2id$"):
                hashes[user.strip()] = hashed.strip()
        return cls(hashes)

    @property
    def enabled(self) -> bool:
        return bool(self.hashes)

    def verify(self, username: str, password: str) -> bool:
        hashed = self.hashes.get(username)
        try:
            _HASHER.verify(hashed or _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return False
        return hashed is not None


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


if __name__ == "__main__":
    secret = getpass.getpass("Password for the staff account: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
    if len(secret) < 12:
        sys.exit("Use at least 12 characters.")
    print(hash_password(secret))

"""Keyed hashes that stand in for phone numbers and web sessions.

Rasa's tracker store, logs and Redis keys only ever see these, never the raw number.
"""
from __future__ import annotations

import hashlib
import hmac


def address_hash(key: str, channel: str, address: str) -> str:
    """Stable, keyed, non-reversible id for one resident on one channel."""
    digest = hmac.new(key.encode(), f"{channel}:{address}".encode(), hashlib.sha256)
    return digest.hexdigest()[:40]


def sender_id(key: str, channel: str, address: str) -> str:
    """The Rasa sender id: channel prefix plus the keyed hash."""
    return f"{channel}-{address_hash(key, channel, address)}"


def mask_phone(number: str) -> str:
    """'+15035550142' -> '+1 ***-***-0142': enough for staff to tell residents apart."""
    digits = [c for c in number if c.isdigit()]
    if len(digits) < 4:
        return "***"
    return f"***-***-{''.join(digits[-4:])}"

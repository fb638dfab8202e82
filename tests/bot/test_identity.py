from __future__ import annotations

from bot.identity import address_hash, mask_phone, sender_id


def test_sender_id_is_stable_keyed_and_never_the_number() -> None:
    number = "+15035550123"
    first = sender_id("key-a", "sms", number)
    assert first == sender_id("key-a", "sms", number)
    assert first != sender_id("key-b", "sms", number)
    assert first != sender_id("key-a", "web", number)
    assert "5035550123" not in first and "0123" not in first
    assert first.startswith("sms-")


def test_address_hash_differs_per_resident() -> None:
    assert address_hash("k", "sms", "+15035550123") != address_hash("k", "sms", "+15035550124")


def test_mask_phone_keeps_only_the_last_four_digits() -> None:
    assert mask_phone("+15035550123") == "***-***-0123"
    assert "503" not in mask_phone("+15035550123")
    assert mask_phone("12") == "***"

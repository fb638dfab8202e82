from __future__ import annotations

import pytest

from bot.settings import Settings
from webhook.app import create_app

TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM_NUMBER": "+15035550100"}


def test_defaults_are_the_embedded_development_setup() -> None:
    settings = Settings.from_env({})
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith("var/assistant.db")
    assert not settings.twilio_enabled and settings.problems() == []


def test_environment_overrides_and_lists() -> None:
    settings = Settings.from_env({"DATABASE_URL": "postgresql://db/x", "RATE_LIMIT_COUNT": "5",
                                  "TURN_RETRY_DELAYS": "1, 2,3", "PUBLIC_BASE_URL": "https://sms.example/",
                                  "TRUST_FORWARDED_HEADERS": "yes", **TWILIO})
    assert settings.database_url == "postgresql://db/x" and settings.rate_limit_count == 5
    assert settings.turn_retry_delays == (1.0, 2.0, 3.0)
    assert settings.public_base_url == "https://sms.example" and settings.trust_forwarded_headers
    assert settings.twilio_enabled and settings.signing_token == "t"


def test_production_refuses_the_development_key_and_a_missing_public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings.from_env(TWILIO)
    assert len(settings.problems()) == 3  # SENDER_ID_KEY, RASA_TOKEN, PUBLIC_BASE_URL
    for name, value in TWILIO.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match="SENDER_ID_KEY"):
        create_app()
    ok = Settings.from_env({**TWILIO, "SENDER_ID_KEY": "s3cret", "RASA_TOKEN": "t0ken",
                            "PUBLIC_BASE_URL": "https://sms.example"})
    assert ok.problems() == []


def test_staff_console_handoff_and_retention_settings() -> None:
    default = Settings.from_env({})
    assert (default.staff_idle_minutes, default.staff_absolute_hours) == (30, 10)
    assert (default.staff_lockout_failures, default.staff_lockout_minutes) == (5, 15)
    assert default.handoff_oncall_number is None
    assert (default.retention_days, default.retention_mode) == (365, "redact")
    settings = Settings.from_env({"STAFF_IDLE_MINUTES": "15", "STAFF_ABSOLUTE_HOURS": "8",
                                  "STAFF_LOCKOUT_FAILURES": "3", "STAFF_LOCKOUT_MINUTES": "60",
                                  "HANDOFF_ONCALL_NUMBER": " +15035550199 ", "RETENTION_DAYS": "90",
                                  "RETENTION_MODE": "Purge"})
    assert (settings.staff_idle_minutes, settings.staff_absolute_hours) == (15, 8)
    assert (settings.staff_lockout_failures, settings.staff_lockout_minutes) == (3, 60)
    assert settings.handoff_oncall_number == "+15035550199" and "0199" not in repr(settings)
    assert (settings.retention_days, settings.retention_mode) == (90, "purge")
    assert Settings.from_env({"HANDOFF_ONCALL_NUMBER": "  "}).handoff_oncall_number is None
    with pytest.raises(ValueError, match="RETENTION_MODE"):
        Settings.from_env({"RETENTION_MODE": "shred"})


def test_staff_accounts_are_no_longer_a_setting() -> None:
    """Staff sign in with accounts kept in the database (bot/staff/accounts.py), not a variable."""
    assert not hasattr(Settings(), "staff_accounts")
    assert not hasattr(Settings.from_env({"STAFF_ACCOUNTS": "ana:$argon2id$x"}), "staff_accounts")

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

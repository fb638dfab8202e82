"""Structured logs (bot/logs.py): one JSON object per line, and no personal data in any line."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import Callable

import pytest

from bot.logs import JsonFormatter
from bot.services import Services
from bot.settings import ROOT, Settings
from tests.fakes.scripted_rasa import ScriptedRasa
from tests.phone import Phone


def test_a_conversation_handled_end_to_end_logs_no_phone_number(
        make_services: Callable[..., Services], fake_twilio, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    """Webhook path (inbox), worker, safety screen, Rasa turn, a failed turn, Twilio sends: every
    log line, of our code and of the libraries, at DEBUG."""
    rasa = ScriptedRasa().start()
    try:
        services = make_services(rasa_url=rasa.url, twilio_account_sid=fake_twilio.account_sid,
                                 twilio_auth_token=fake_twilio.auth_token, twilio_from_number="+15035550100",
                                 twilio_api_base_url=fake_twilio.base_url, max_turn_attempts=1)
        phone = Phone(services, "+15035550188")
        caplog.set_level(logging.DEBUG)
        assert phone.text("what can you do")
        assert phone.text("someone is breaking into my house right now")
        assert phone.text("menu")  # the flag handed the conversation to staff: back to the assistant
        rasa.stop()  # Rasa unreachable: the turn fails, is logged, and the resident gets an apology
        assert phone.text("when is the next town hall meeting")
        fake_twilio.failures.append(500)  # a failed send is logged and retried
        assert phone.text("HELP")
    finally:
        rasa.stop()

    lines = [JsonFormatter().format(record) for record in caplog.records]
    entries = [json.loads(line) for line in lines]
    loggers = {entry["logger"] for entry in entries}
    assert {"bot.pipeline", "twilio.http_client"} <= loggers, loggers
    assert any("safety flag" in entry["message"] for entry in entries)
    assert any("rasa turn failed" in entry["message"] for entry in entries)
    for line in lines:
        for secret in ("+15035550188", "5035550188", "555-0188", "breaking into", "town hall"):
            assert secret not in line, line


def test_json_lines_name_an_exception_by_type_never_by_its_message() -> None:
    """An exception's text can quote a phone number (SQL parameters, a request body)."""
    try:
        raise ValueError("duplicate key: address=+15035550111")
    except ValueError:
        record = logging.getLogger("bot.test").makeRecord(
            "bot.test", logging.ERROR, __file__, 1, "store failed for conversation %s", (7,), sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "store failed for conversation 7" and entry["level"] == "ERROR"
    assert entry["logger"] == "bot.test" and entry["exc_type"] == "ValueError"
    assert entry["exc_at"].startswith("test_logs.py:") and entry["time"].endswith("+00:00")
    assert "5035550111" not in json.dumps(entry)


def _log_in_a_fresh_process(log_format: str) -> str:
    code = ("import logging\nfrom bot.logs import configure_logging\nfrom bot.settings import Settings\n"
            f"configure_logging(Settings(log_format={log_format!r}, log_level='INFO'))\n"
            "logging.getLogger('bot.worker').warning('recovery: re-enqueued %d conversation(s)', 2)\n"
            "logging.getLogger('bot.worker').debug('not at INFO')\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={"PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_configure_logging_writes_one_json_object_per_line_when_asked() -> None:
    lines = _log_in_a_fresh_process("json").splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["level"] == "WARNING" and entry["logger"] == "bot.worker"
    assert entry["message"] == "recovery: re-enqueued 2 conversation(s)"
    text = _log_in_a_fresh_process("text")
    assert "recovery: re-enqueued 2 conversation(s)" in text and not text.startswith("{")


def test_log_format_setting() -> None:
    assert Settings.from_env({}).log_format == "text"
    assert Settings.from_env({"LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        Settings.from_env({"LOG_FORMAT": "xml"})

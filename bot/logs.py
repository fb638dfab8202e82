"""Logging set-up shared by every process (webhook, worker, sweeper).

LOG_FORMAT=json writes one JSON object per line, for log collectors that index fields.
Personal data stays out of logs because our log messages never carry it (ids and keyed
hashes only); the JSON formatter adds one more guard: of an exception it writes the type
and where it was raised, never its message or traceback text, which can quote SQL
parameters or request bodies (a phone number, a resident's words).
"""
from __future__ import annotations

import json
import logging
import os
import traceback
from datetime import datetime, timezone

from bot.settings import Settings


class JsonFormatter(logging.Formatter):
    """time, level, logger, message (+ exc_type and exc_at when an exception is attached)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, _, tb = record.exc_info
            entry["exc_type"] = exc_type.__name__
            frames = traceback.extract_tb(tb) if tb is not None else []
            if frames:
                # The innermost frame: a file and line to look at, no values.
                entry["exc_at"] = f"{os.path.basename(frames[-1].filename)}:{frames[-1].lineno}"
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(settings: Settings) -> None:
    """The root handler of this process, in LOG_FORMAT at LOG_LEVEL. Like logging.basicConfig,
    it leaves a process whose root logger already has handlers (a test runner) alone."""
    handler = logging.StreamHandler()
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
        logging.captureWarnings(True)  # library warnings as JSON lines too, not free text on stderr
    logging.basicConfig(level=settings.log_level, handlers=[handler])

"""`rasa` for `make bench`, with the built-in Twilio channel's outbound calls kept on this machine.

Rasa 3.6's Twilio channel sends through the `twilio` library, whose Messages API base URL is
fixed (https://api.twilio.com). This wrapper points that base URL at the benchmark's local
server speaking the Twilio Messages API (BENCH_TWILIO_API_BASE_URL), then runs Rasa's own CLI
unchanged (same arguments as `rasa`).

One more adaptation, for the built-in channel only: our `action_validate_slot_mappings`
emits a `custom` message `{"nlu": {...}}` on every turn (our pipeline reads and drops it).
The built-in channel would pass it to `messages.create(nlu=...)`, raise TypeError and lose the
turn's answer; here it is dropped, as our pipeline does, so the peer is measured doing its job.
The REST channel is untouched.
"""
from __future__ import annotations

import os
import sys
from typing import Any

TWILIO_API = "https://api.twilio.com"


def patch_twilio(base_url: str) -> None:
    from twilio.base import domain

    original_init = domain.Domain.__init__

    def init(self: Any, twilio: Any, url: str) -> None:
        original_init(self, twilio, base_url if url.rstrip("/") == TWILIO_API else url)

    domain.Domain.__init__ = init  # type: ignore[method-assign]


def patch_custom_json() -> None:
    from rasa.core.channels.twilio import TwilioOutput

    original = TwilioOutput.send_custom_json

    async def send_custom_json(self: Any, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        if set(json_message) <= {"nlu"}:  # our pipeline's turn metadata, never a message for a resident
            return
        await original(self, recipient_id, json_message, **kwargs)

    TwilioOutput.send_custom_json = send_custom_json  # type: ignore[method-assign]


def main() -> int:
    base_url = os.environ.get("BENCH_TWILIO_API_BASE_URL", "").rstrip("/")
    if not base_url.startswith("http://127.0.0.1:"):
        raise SystemExit("BENCH_TWILIO_API_BASE_URL must be the local Twilio server (http://127.0.0.1:PORT)")
    patch_twilio(base_url)
    patch_custom_json()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())

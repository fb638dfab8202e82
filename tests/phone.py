"""A resident's phone for end-to-end tests: texts go in through the inbox (the webhook's path),
a worker burst handles them, and the replies are read back from the transcript."""
from __future__ import annotations

import itertools
from typing import Sequence

from bot.identity import address_hash
from bot.inbox import Inbox
from bot.services import Services
from bot.sms import normalize_gsm, render_menu
from tests.conftest import run_worker

_numbers = itertools.count(1000)


def new_number() -> str:
    return f"+1503556{next(_numbers):04d}"


def rendered(services: Services, response: str, language: str) -> set[str]:
    """Every SMS text a response can produce in a language (all its variations)."""
    slots = services.pipeline.slots(language)
    texts = set()
    for _ in range(20):
        r = services.catalog.render(response, slots)
        texts.add(normalize_gsm(render_menu(r.text, r.buttons, language)))
    return texts


class Phone:
    """A resident texting through the same path as the webhook, then a worker burst."""

    def __init__(self, services: Services, number: str | None = None) -> None:
        self.services = services
        self.number = number or new_number()
        self._sid = itertools.count()

    @property
    def conversation(self):  # type: ignore[no-untyped-def]
        return self.services.conversations.find("sms", address_hash("test-key", "sms", self.number))

    def send(self, text: str, num_media: int = 0, media: Sequence[str] = ()) -> None:
        """`media`: picture URLs, as MediaUrl0..N of an MMS."""
        Inbox(self.services).accept("sms", self.number, text, f"SM{self.number}{next(self._sid)}",
                                    max(num_media, len(media)), [(url, None) for url in media])

    def outbound(self) -> list:  # type: ignore[type-arg]
        return [m for m in self.services.messages.transcript(self.conversation.id) if m.direction == "out"]

    def text(self, body: str, num_media: int = 0, media: Sequence[str] = ()) -> list[str]:
        before = len(self.outbound()) if self.conversation else 0
        self.send(body, num_media, media)
        run_worker(self.services)
        return [m.text for m in self.outbound()[before:]]

"""Rasa's REST channel as it behaves when broken: HTTP 200 with an empty list."""
from __future__ import annotations

from tests.fakes.server import LoopbackServer, QuietHandler


class BrokenRasa:
    def __init__(self) -> None:
        self.calls = 0
        self._server: LoopbackServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.url

    def start(self) -> "BrokenRasa":
        owner = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802
                owner.calls += 1
                self.read_body()
                self.reply_json(200, [])

        self._server = LoopbackServer(Handler)
        return self

    def stop(self) -> None:
        if self._server:
            self._server.stop()

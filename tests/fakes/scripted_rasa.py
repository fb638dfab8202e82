"""Rasa's REST channel answering from a script: a stand-in for the trained model in tests of the
channels (what reaches Rasa, what the resident gets back), with the NLU metadata message a real
turn carries (see bot/rasa_client.py)."""
from __future__ import annotations

import json
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from bot.settings import DEV_RASA_TOKEN
from tests.fakes.server import LoopbackServer, QuietHandler

Reply = list[dict[str, Any]]


def menu_or_echo(message: str) -> Reply:
    """'what can you do' -> a message with buttons; a payload -> its name; anything else echoed."""
    if message == "what can you do":
        return [{"text": "Here's what I can do.", "buttons": [
            {"title": "Community meetings", "payload": "/list_meetings"},
            {"title": "Talk to a person", "payload": "/request_human"}]}]
    return [{"text": f"You said: {message}"}]


class ScriptedRasa:
    def __init__(self, script: Callable[[str], Reply] = menu_or_echo,
                 parse: Callable[[str], tuple[str, float]] | None = None, token: str = DEV_RASA_TOKEN) -> None:
        self.script = script
        self.token = token  # like `rasa run --enable-api --auth-token`: /model/parse needs ?token=
        self.parse = parse or (lambda text: ("nlu_fallback", 0.3))
        self.received: list[dict[str, Any]] = []
        self._server: LoopbackServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.url

    def start(self) -> "ScriptedRasa":
        owner = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802
                payload = json.loads(self.read_body() or b"{}")
                parts = urlsplit(self.path)
                if parts.path == "/model/parse":  # NLU only: no turn, nothing recorded
                    if parse_qs(parts.query).get("token") != [owner.token]:
                        self.reply_json(401, {"status": "failure", "reason": "NotAuthenticated"})
                        return
                    intent, confidence = owner.parse(str(payload.get("text", "")))
                    self.reply_json(200, {"text": payload.get("text"),
                                          "intent": {"name": intent, "confidence": confidence}})
                    return
                owner.received.append(payload)
                reply = owner.script(str(payload.get("message", "")))
                self.reply_json(200, reply + [{"custom": {"nlu": {"intent": "scripted", "confidence": 1.0}}}])

        self._server = LoopbackServer(Handler)
        return self

    def stop(self) -> None:
        if self._server:
            self._server.stop()

"""A browser's side of the web chat API, for tests: start a session, say things, read replies."""
from __future__ import annotations

import itertools
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

API = "/chat/api"
_ids = itertools.count(1)


def new_client_id() -> str:
    return f"client-{next(_ids):06d}"


class ChatBrowser:
    """One resident's browser tab: keeps the token and the last message id it has seen."""

    def __init__(self, client: FlaskClient, language: str | None = "en", **headers: str) -> None:
        self.client = client
        self.headers = dict(headers)
        body = {"language": language} if language else None
        response = client.post(f"{API}/sessions", json=body, headers=self.headers)
        assert response.status_code == 201, response.json
        self.token: str = response.json["token"]
        self.last_id = 0

    @property
    def auth(self) -> dict[str, str]:
        return {**self.headers, "Authorization": f"Bearer {self.token}"}

    def post(self, text: str, client_id: str | None = None, **kwargs: Any) -> TestResponse:
        return self.client.post(f"{API}/messages", json={"text": text, "client_id": client_id or new_client_id()},
                                headers=self.auth, **kwargs)

    def say(self, text: str, client_id: str | None = None) -> int:
        response = self.post(text, client_id)
        assert response.status_code == 202, response.json
        return int(response.json["id"])

    def fetch(self, after: int | None = None, wait: int = 0) -> TestResponse:
        after = self.last_id if after is None else after
        return self.client.get(f"{API}/messages?after={after}&wait={wait}", headers=self.auth)

    def read(self, after: int | None = None) -> list[dict[str, Any]]:
        response = self.fetch(after)
        assert response.status_code == 200, response.json
        messages = response.json["messages"]
        if messages:
            self.last_id = messages[-1]["id"]
        return messages

    def replies(self) -> list[dict[str, Any]]:
        return [m for m in self.read() if m["direction"] == "out"]

"""Client for Rasa's REST channel (POST /webhooks/rest/webhook).

Rasa answers HTTP 200 with an empty list when it is broken (for example its tracker
store is unreachable), so an empty answer is a failure, not silence: every real turn
carries the NLU metadata message that action_validate_slot_mappings adds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import requests

from bot.sms import Button

NLU_META_KEY = "nlu"


class RasaError(Exception):
    """A turn that did not happen; the message must be retried or apologised for."""


class RasaUnavailable(RasaError):
    """Rasa could not be reached, timed out or answered with an HTTP error."""


class RasaBrokenReply(RasaError):
    """Rasa answered, but not with a real turn (empty list, bad JSON, no NLU metadata)."""


@dataclass(frozen=True)
class BotMessage:
    text: str = ""
    buttons: tuple[Button, ...] = ()
    image: str | None = None
    custom: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class RasaTurn:
    messages: tuple[BotMessage, ...]
    intent: str | None = None
    confidence: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


class RasaClient:
    def __init__(self, base_url: str, timeout: float = 10.0, session: requests.Session | None = None,
                 token: str | None = None) -> None:
        self._url = base_url.rstrip("/") + "/webhooks/rest/webhook"
        self._parse_url = base_url.rstrip("/") + "/model/parse"
        self._token = token  # Rasa's HTTP API (rasa run --enable-api --auth-token ...)
        self._timeout = timeout
        self._session = session or requests.Session()

    def parse(self, text: str) -> tuple[str | None, float]:
        """NLU only (POST /model/parse): nothing is written to any tracker."""
        try:
            response = self._session.post(self._parse_url, json={"text": text}, timeout=(3.0, self._timeout),
                                          params={"token": self._token} if self._token else None)
            if response.status_code >= 400:
                raise RasaUnavailable(f"HTTP {response.status_code}")
            intent = (response.json() or {}).get("intent") or {}
        except requests.RequestException as exc:
            raise RasaUnavailable(type(exc).__name__) from exc
        except (ValueError, AttributeError) as exc:
            raise RasaBrokenReply("not JSON") from exc
        return intent.get("name"), float(intent.get("confidence") or 0.0)

    def turn(self, sender_id: str, text: str, metadata: Mapping[str, Any]) -> RasaTurn:
        payload = {"sender": sender_id, "message": text, "metadata": dict(metadata)}
        try:
            response = self._session.post(self._url, json=payload, timeout=(3.0, self._timeout))
        except requests.RequestException as exc:
            raise RasaUnavailable(type(exc).__name__) from exc
        if response.status_code >= 400:
            raise RasaUnavailable(f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise RasaBrokenReply("not JSON") from exc
        return parse_turn(body)


def parse_turn(body: Any) -> RasaTurn:
    if not isinstance(body, list) or not body:
        raise RasaBrokenReply("empty answer")
    messages: list[BotMessage] = []
    meta: Mapping[str, Any] | None = None
    for item in body:
        if not isinstance(item, dict):
            continue
        custom = item.get("custom")
        if isinstance(custom, dict) and NLU_META_KEY in custom:
            meta = custom[NLU_META_KEY]
            continue
        buttons = tuple(
            Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
            for b in item.get("buttons") or ()
            if isinstance(b, dict)
        )
        messages.append(BotMessage(text=str(item.get("text") or ""), buttons=buttons,
                                   image=item.get("image"), custom=custom if isinstance(custom, dict) else None))
    if meta is None:
        raise RasaBrokenReply("no NLU metadata: action server down?")
    confidence = meta.get("confidence")
    return RasaTurn(
        messages=tuple(messages),
        intent=meta.get("intent"),
        confidence=float(confidence) if confidence is not None else None,
        extra=meta,
    )

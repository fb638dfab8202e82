"""Responses of domain.yml rendered outside Rasa (safety, consent, apologies).

The pipeline answers some messages without a Rasa turn (an emergency, HELP, an outage).
Those words live in domain.yml like every other response, and are chosen the way Rasa
chooses them: a variation whose slot conditions all match wins over an unconditioned one.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from bot.sms import Button

_PLACEHOLDER = re.compile(r"\{([a-zA-Z0-9_]+)\}")


class UnknownResponse(KeyError):
    """A response name that domain.yml does not define."""


@dataclass(frozen=True)
class RenderedResponse:
    text: str
    buttons: tuple[Button, ...] = ()


def fill(template: str, values: Mapping[str, Any]) -> str:
    """Fill {slot} placeholders; unknown placeholders are left visible for tests to catch."""
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), template)


def _matches(variation: Mapping[str, Any], slots: Mapping[str, Any]) -> bool:
    for condition in variation.get("condition") or ():
        if condition.get("type") == "slot" and slots.get(condition["name"]) != condition["value"]:
            return False
    return True


def custom_table(responses: Mapping[str, Any], name: str, language: str | None) -> dict[str, Any]:
    """The `custom:` table of a response for a language (else its unconditioned variation).

    Word tables (menu labels, day and month names) live in domain.yml like every other word
    a resident reads; this reads them from a raw `responses:` mapping (Rasa's or ours)."""
    default: dict[str, Any] = {}
    for variation in responses.get(name) or []:
        table = dict(variation.get("custom") or {})
        conditions = variation.get("condition") or []
        if not conditions:
            default = table
        elif any(c.get("name") == "language" and c.get("value") == language for c in conditions):
            return table
    return default


class ResponseCatalog:
    """The `responses:` section of domain.yml."""

    def __init__(self, responses: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        self._responses = responses

    @classmethod
    def load(cls, domain_path: Path) -> "ResponseCatalog":
        with open(domain_path, encoding="utf-8") as handle:
            domain = yaml.safe_load(handle) or {}
        return cls(domain.get("responses") or {})

    def custom(self, name: str, language: str | None) -> dict[str, Any]:
        return custom_table(self._responses, name, language)

    def names(self) -> list[str]:
        return sorted(self._responses)

    def variations(self, name: str) -> Sequence[Mapping[str, Any]]:
        try:
            return self._responses[name]
        except KeyError as exc:
            raise UnknownResponse(name) from exc

    def choose(self, name: str, slots: Mapping[str, Any], rng: random.Random | None = None) -> Mapping[str, Any]:
        variations = self.variations(name)
        conditional = [v for v in variations if v.get("condition") and _matches(v, slots)]
        default = [v for v in variations if not v.get("condition")]
        candidates = conditional or default
        if not candidates:
            raise UnknownResponse(f"{name} has no variation for {slots.get('language')}")
        return (rng or random).choice(candidates)

    def render(self, name: str, slots: Mapping[str, Any]) -> RenderedResponse:
        variation = self.choose(name, slots)
        buttons = tuple(
            Button(title=fill(str(b["title"]), slots), payload=str(b["payload"]))
            for b in variation.get("buttons") or ()
        )
        return RenderedResponse(text=fill(str(variation.get("text", "")), slots), buttons=buttons)

"""What a resident types to leave a handoff and talk to the assistant again.

Checked by the pipeline before anything else reads a message in a handoff, so it works when
Rasa is not listening. Exact phrases only (after folding case, accents and punctuation): a
message that merely contains "menu" ("is the menu at the coffee event vegan?") goes to staff.
"""
from __future__ import annotations

import re
import unicodedata

BACK_TO_BOT = frozenset({
    # English
    "menu", "main menu", "back to the bot", "back to bot", "back to the assistant", "back to assistant",
    "bot", "assistant", "talk to the bot", "talk to the assistant", "go back", "go back to the bot",
    "return to the bot", "return to bot", "never mind the person", "no person",
    # Spanish
    "menú", "volver al bot", "volver al asistente", "regresar al bot", "regresar al asistente",
    "el bot", "el asistente", "hablar con el bot", "hablar con el asistente", "volver", "regresar",
})


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]", " ", plain).split())


_FOLDED = frozenset(_fold(phrase) for phrase in BACK_TO_BOT)


def wants_assistant(text: str) -> bool:
    return _fold(text) in _FOLDED

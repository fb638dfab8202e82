"""Answers that must not enter Rasa's tracker store: a resident's name.

When a form asks for a name, its ask action adds a custom message {"expect": "private_name"}.
The pipeline then marks the conversation, and the resident's next message, if it reads like
a name and not like a question, is kept in the database and replaced, for Rasa, by the
payload `/inform_name`. The submit action takes the name from the database.
"""
from __future__ import annotations

import re
import unicodedata

PRIVATE_NAME_MARKER = "private_name"
PRIVATE_NAME_INTENT = "inform_name"
PRIVATE_NAME_PAYLOAD = f"/{PRIVATE_NAME_INTENT}"
# Intents that mean "I'm asking something else" rather than "here is my answer", when NLU is
# at least this sure: the form's question is then answered by rule and the form resumes.
QUESTION_INTENTS = frozenset({
    "faq", "help", "request_human", "list_meetings", "my_signups", "unregister_meeting", "signup_meeting",
    "report_incident", "check_report_status", "bot_challenge", "leave_form",
    "change_language", "subscribe_alerts", "unsubscribe_alerts", "find_beat_officer", "crime_stats",
    "give_feedback",
})
QUESTION_CONFIDENCE = 0.6
MAX_NAME_CHARS = 80
MAX_NAME_WORDS = 5
_LEAD = re.compile(
    r"^(?:(?:hi|hello|hey|hola)[,!. ]+)?(?:my name is|my name's|name is|name's|i am|i'm|im|it's|its|this is|"
    r"me llamo|mi nombre es|soy|a nombre de)\s+", re.IGNORECASE)


# Words no name is made of ("graffiti on the wall", "hay un carro"): a reply holding one is a
# sentence about something else, asked again rather than kept as a name. Name particles
# (de, del, la, los, van, y...) are not here: "María de los Ángeles", "Van der Berg".
_NOT_NAME_WORDS = frozenset("""
the a an on in at of to for with from by about into over under near behind is are was were be been am
my your his her our their its this that these those there here what who whom which when where why how
and or but if so not no yes ok okay please thanks thank hi hello hey can could would should will do does did
have has had get got want need just really very some someone somebody anyone everyone something nothing
it me you him them us i we they he she again also still now today tonight yesterday tomorrow
el un una unos unas en con por para que como donde cuando quien cual hay es son esta estan fue
mi mis tu tus su sus nuestro hola gracias si pero porque tambien ya aqui alli ahi ahora hoy ayer manana
""".split())


def name_from(text: str) -> str | None:
    """'my name is Ana Ruiz' -> 'Ana Ruiz'; None when the reply does not look like a name."""
    cleaned = _LEAD.sub("", " ".join(text.split())).strip(" .!,")
    if not cleaned or len(cleaned) > MAX_NAME_CHARS or len(cleaned.split()) > MAX_NAME_WORDS:
        return None
    for ch in cleaned:
        if not (ch.isalpha() or ch in " '-." or unicodedata.category(ch) == "Mn"):
            return None
    if any(_plain(word) in _NOT_NAME_WORDS for word in cleaned.split()):
        return None
    return cleaned


def _plain(word: str) -> str:
    folded = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in folded if not unicodedata.combining(ch)).strip("'.-")

"""SMS text facts: GSM-7 vs UCS-2, segment counts, numbered menus, Twilio's length cap.

A single character outside GSM-7 (a curly quote pasted from a word processor, an "á")
switches the whole message to UCS-2 and more than doubles the number of segments the
department pays for, so outgoing text is normalized to GSM-7 where that keeps the meaning.
SMS has no buttons, so Rasa's buttons become a numbered menu and the reply is mapped back.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal, Sequence

# -- GSM 03.38 --------------------------------------------------------------------------

# The default alphabet, in table order (0x00-0x7F); 0x1B is the escape to the extension table.
GSM7_BASIC: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# Reached through the escape, so each costs two septets.
GSM7_EXTENDED: frozenset[str] = frozenset("\f^{}\\[~]|€")
GSM7: frozenset[str] = GSM7_BASIC | GSM7_EXTENDED

GSM7_SINGLE_SEGMENT = 160
GSM7_MULTI_SEGMENT = 153  # the user data header takes 7 septets of each part
UCS2_SINGLE_SEGMENT = 70
UCS2_MULTI_SEGMENT = 67
TWILIO_MAX_CHARS = 1600

Encoding = Literal["GSM-7", "UCS-2"]

# -- normalization tables ------------------------------------------------------------------

# Same-meaning typography that costs nothing to replace, applied whatever the encoding.
_TYPOGRAPHY: dict[str, str] = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u2039\u203a`\u00b4", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d", "-"),
    **dict.fromkeys("\u2022\u25e6\u2023\u2219\u25cf\u25aa\u25a0\u25cb\u25a1\u00b7", "-"),
    **dict.fromkeys("\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
                    "\u2009\u200a\u202f\u205f\u3000", " "),
    **dict.fromkeys("\u2028\u2029\u0085", "\n"),
    **dict.fromkeys("\u200b\u200c\u2060\ufeff\u00ad", ""),
}
# Replacements worth making only when they let the whole message be GSM-7.
_TRANSLITERATION: dict[str, str] = {
    "\u2026": "...",
    "\u00bd": "1/2", "\u00bc": "1/4", "\u00be": "3/4", "\u2044": "/",
    "\u00d7": "x",
    "ð": "d", "Ð": "D", "đ": "d", "Đ": "D", "þ": "th", "Þ": "Th",
    "ł": "l", "Ł": "L", "ħ": "h", "Ħ": "H", "ı": "i", "ŧ": "t", "Ŧ": "T",
    "ŋ": "n", "Ŋ": "N", "œ": "oe", "Œ": "OE", "ſ": "s", "ĸ": "k",
}
# No GSM-7 equivalent that keeps the meaning ("nº" must not become "no").
_KEEP: frozenset[str] = frozenset("ºª°")
# Spelled out after a digit with a space, so "7½" becomes "7 1/2", not "71/2".
_FRACTIONS: frozenset[str] = frozenset("\u00bd\u00bc\u00be")
_ZWJ = "\u200d"
_COMBINING_DIACRITICS = range(0x0300, 0x0370)
_MAX_PASSES = 4


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7 for ch in text)


def _transliterate(ch: str) -> str | None:
    """The closest GSM-7 spelling of one non-GSM character, or None when there is none."""
    if ch in _KEEP:
        return None
    if ch in _TRANSLITERATION:
        return _TRANSLITERATION[ch]
    if ord(ch) in _COMBINING_DIACRITICS:
        return ""  # a stray accent left over after composition
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if ord(c) not in _COMBINING_DIACRITICS)
    if not base or not is_gsm7(base):
        return None
    if " " in base and not ch.isspace():
        return None  # spacing accents (¨ ¸) would turn into blanks
    return base


def _irreducible(ch: str) -> bool:
    return ch not in GSM7 and ch not in _TYPOGRAPHY and ch != _ZWJ and _transliterate(ch) is None


def _pass(text: str, transliterate: bool) -> str:
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch in GSM7:
            out.append(ch)
        elif ch == _ZWJ:
            # Inside an emoji sequence (family, flag-like ligatures) the joiner carries meaning.
            before = text[i - 1] if i > 0 else ""
            after = text[i + 1] if i + 1 < len(text) else ""
            if before and after and _irreducible(before) and _irreducible(after):
                out.append(ch)
        elif ch in _TYPOGRAPHY:
            out.append(_TYPOGRAPHY[ch])
        elif transliterate and (spelled := _transliterate(ch)) is not None:
            if ch in _FRACTIONS and out and out[-1][-1:].isdigit():
                spelled = " " + spelled
            out.append(spelled)
        else:
            out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def _fixpoint(text: str, transliterate: bool) -> str:
    for _ in range(_MAX_PASSES):
        step = _pass(text, transliterate)
        if step == text:
            break
        text = step
    return text


def normalize_gsm(text: str) -> str:
    """GSM-7 text with the same meaning where possible; otherwise only the free typography fixes.

    Accents are dropped (á→a) only when that makes the whole message GSM-7 without costing
    more segments: once an emoji forces UCS-2, dropping them would lose meaning for nothing.
    Idempotent.
    """
    plain = _fixpoint(text, transliterate=False)
    if is_gsm7(plain):
        return plain
    spelled = _fixpoint(plain, transliterate=True)
    if is_gsm7(spelled) and segment_count(spelled) <= segment_count(plain):
        return spelled
    return plain


# -- segments ------------------------------------------------------------------------------


@dataclass
class SegmentInfo:
    encoding: Encoding
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def _widths(text: str, gsm: bool) -> list[int]:
    if gsm:
        return [2 if ch in GSM7_EXTENDED else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _pack(widths: Sequence[int], per_segment: int) -> int:
    """Parts needed when an escape pair or a surrogate pair may not straddle two parts."""
    segments, used = 1, 0
    for width in widths:
        if used + width > per_segment:
            segments, used = segments + 1, 0
        used += width
    return segments


def segment_info(text: str) -> SegmentInfo:
    gsm = is_gsm7(text)
    widths = _widths(text, gsm)
    units = sum(widths)
    single, multi = (GSM7_SINGLE_SEGMENT, GSM7_MULTI_SEGMENT) if gsm else (UCS2_SINGLE_SEGMENT, UCS2_MULTI_SEGMENT)
    if units == 0:
        segments = 0
    elif units <= single:
        segments = 1
    else:
        segments = _pack(widths, multi)
    return SegmentInfo(encoding="GSM-7" if gsm else "UCS-2", units=units, segments=segments)


def segment_count(text: str) -> int:
    return segment_info(text).segments


def truncate_sms(text: str, max_chars: int = TWILIO_MAX_CHARS) -> str:
    """Fit Twilio's cap, cutting between words and marking the cut with "...".

    Length is measured in UTF-16 code units, never less than characters, so the result
    fits whichever way the cap is counted.
    """
    if max_chars < 4:
        raise ValueError("max_chars must leave room for a word and '...'")
    widths = _widths(text, gsm=False)
    if sum(widths) <= max_chars:
        return text
    budget, end = max_chars - 3, 0
    for width in widths:
        if budget < width:
            break
        budget -= width
        end += 1
    cut = end
    if not text[end].isspace():
        space = max((i for i in range(end) if text[i].isspace()), default=-1)
        if space > end // 2:  # a very long "word" (a URL) is cut inside rather than dropped
            cut = space
    head = text[:cut].rstrip().rstrip(",;:-.").rstrip()
    if not head:
        head = text[:end]
    return head + "..."


# -- numbered menus ------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


def buttons_to_json(buttons: Sequence[Button] | None) -> str | None:
    """How a menu is stored (a conversation's open menu, a web message's buttons); None for none."""
    return json.dumps([{"title": b.title, "payload": b.payload} for b in buttons]) if buttons else None


def buttons_from_json(stored: str | None) -> list[Button]:
    if not stored:
        return []
    return [Button(title=item["title"], payload=item["payload"]) for item in json.loads(stored)]


MENU_LEAD: dict[str, str] = {
    "en": "Reply with a number:",
    "es": "Responda con un número:",
}
DEFAULT_MENU_LANGUAGE = "en"

NUMBER_WORDS: dict[str, int] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
    "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10,
}
_CHOICE = re.compile(
    r"^(?:(?:option|opcion|opt|number|numero|num|choice)\s*\.?\s*)?#?\s*(?P<n>[0-9]{1,3}|[a-z]+)\s*[.)!]*$"
)


def _fold(text: str) -> str:
    """Lowercase, accentless, single-spaced: how a reply is compared with a title."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.split())


def _one_line(title: str) -> str:
    return " ".join(title.split())


def render_menu(text: str, buttons: Sequence[Button], language: str) -> str:
    """The message followed by "1 - title" lines; payloads stay internal."""
    if not buttons:
        return text
    lead = MENU_LEAD.get(language.split("-")[0].lower(), MENU_LEAD[DEFAULT_MENU_LANGUAGE])
    lines = [lead] + [f"{i} - {_one_line(b.title)}" for i, b in enumerate(buttons, start=1)]
    menu = "\n".join(lines)
    body = text.rstrip()
    return f"{body}\n\n{menu}" if body else menu


def menu_choice(reply: str, buttons: Sequence[Button]) -> Button | None:
    """The button a resident picked by number, number word or title; None when unclear."""
    if not buttons:
        return None
    folded = _fold(reply)
    match = _CHOICE.match(folded)
    if match:
        token = match.group("n")
        number = int(token) if token.isdigit() else NUMBER_WORDS.get(token)
        if number is not None:
            return buttons[number - 1] if 1 <= number <= len(buttons) else None
    bare = folded.strip(" .!?¡¿\"'")
    if bare:
        for button in buttons:
            if _fold(button.title).strip(" .!?¡¿\"'") == bare:
                return button
    return None

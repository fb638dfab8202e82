"""Which language to reply in: English or Spanish, following the resident, staying stable.

Residents text in lowercase, without accents, with typos and in Spanglish, and many replies
carry no language at all ("ok", "1", a ZIP code, an address). So a conversation keeps its
language unless a message clearly says otherwise: an explicit request ("in english please",
"hablas español?") always wins, a confident detection switches, anything else keeps it.

The detector is a deterministic scorer, not a model: words of each language (function words,
texting spellings and this department's vocabulary) carry weights by how unmistakable they
are, Spanish-only characters (ñ ¿ ¡ á í ó ú) add Spanish evidence, and typical endings weigh a
little for words neither list knows. Confidence is tanh(margin / CONFIDENCE_SCALE), so it
grows with the lead of the winning language, not with the message's length alone.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

# A detection must reach this to move an ongoing conversation to the other language.
# With CONFIDENCE_SCALE 3.5 that means a lead of about 2.4 points: one unmistakable word
# ("gracias", "que?", "thanks", "what?") or several weaker ones, never a lone "hi", "si",
# "ok" or a function word shared with loanwords.
SWITCH_CONFIDENCE = 0.6
# Before the conversation has a language any detected lean beats the department default.
ADOPT_CONFIDENCE = 0.25
# The winner needs at least this much evidence for detect() to name a language at all.
MIN_EVIDENCE = 1.5
CONFIDENCE_SCALE = 3.5

# Strength of a word: 3 never seen in the other language and telling on its own;
# 2-2.5 frequent function words; 1-1.5 words also borrowed or texted across languages.
SPANISH_WORDS: dict[str, float] = {
    # function words
    "el": 1.5, "la": 1.5, "los": 2.0, "las": 2.0, "un": 1.5, "una": 2.0, "unos": 2.5, "unas": 2.5,
    "del": 1.5, "al": 1.0, "de": 1.5, "en": 1.0, "y": 1.0, "que": 2.5, "q": 2.0, "por": 2.0,
    "para": 2.0, "pa": 1.0, "con": 1.5, "sin": 1.0, "es": 1.5, "esta": 2.0, "estas": 2.0, "estoy": 3.0,
    "estan": 2.5, "estaba": 3.0, "estamos": 3.0, "son": 1.0, "soy": 3.0, "eres": 3.0, "somos": 3.0,
    "fue": 2.5, "era": 1.0, "hay": 2.0, "pero": 2.5, "porque": 2.5, "xq": 2.5, "pq": 2.0,
    "porq": 2.5, "como": 2.0, "cuando": 2.5, "donde": 2.5, "cual": 2.5, "cuales": 2.5,
    "quien": 2.5, "quienes": 2.5, "cuanto": 2.5, "cuantos": 2.5, "cuanta": 2.5, "mi": 1.5,
    "mis": 1.5, "tu": 1.5, "tus": 2.0, "su": 1.5, "sus": 1.0, "yo": 1.5, "usted": 3.0,
    "ustedes": 3.0, "ud": 2.0, "uds": 2.5, "nosotros": 3.0, "ellos": 3.0, "ella": 2.5,
    "ellas": 3.0, "le": 1.5, "les": 1.5, "lo": 1.0, "se": 1.5, "nos": 1.5, "te": 1.0,
    "muy": 2.5, "mas": 1.5, "tambien": 3.0, "tmb": 2.0, "tb": 1.0, "este": 2.0, "esto": 2.0,
    "eso": 2.0, "esa": 2.0, "ese": 2.0, "aqui": 2.5, "alli": 2.5, "ahi": 2.5, "sobre": 2.0,
    "desde": 2.5, "hasta": 2.5, "entre": 1.5, "contra": 1.5, "entonces": 3.0, "pues": 3.0,
    "nuestro": 3.0, "nuestra": 3.0, "algo": 2.5, "alguien": 3.0, "nadie": 3.0, "nada": 2.5,
    "todo": 2.5, "todos": 2.5, "mucho": 3.0, "muchas": 3.0, "muchos": 3.0, "otra": 2.5,
    "otro": 2.5, "ya": 1.0, "si": 1.0, "ahora": 2.5, "hoy": 2.5, "ayer": 2.5, "manana": 2.5,
    "noche": 2.5, "bien": 2.5, "mal": 1.0,
    # verbs residents use
    "quiero": 3.0, "kiero": 3.0, "quisiera": 3.0, "queria": 3.0, "necesito": 3.0,
    "nesesito": 3.0, "nececito": 3.0, "nesecito": 3.0, "necesita": 3.0, "necesitamos": 3.0,
    "puedo": 3.0, "puede": 2.5, "pueden": 3.0, "puedes": 3.0, "podria": 3.0, "tengo": 3.0,
    "tiene": 2.5, "tienen": 3.0, "tenemos": 3.0, "saber": 2.5, "sabe": 2.5,
    "hacer": 2.5, "hace": 2.5, "hizo": 3.0, "hablar": 2.5, "hablo": 3.0, "habla": 2.5,
    "hablas": 3.0, "hable": 2.5, "entiendo": 3.0, "llamar": 3.0, "llame": 2.5, "llamo": 3.0,
    "voy": 3.0, "vamos": 2.5, "vivo": 1.5, "ayudar": 3.0, "ayudarme": 3.0, "ayudame": 3.0,
    "ayudeme": 3.0, "ayudenme": 3.0, "robaron": 3.0, "reportar": 3.0, "denunciar": 3.0,
    "oye": 2.5, "oiga": 3.0, "digame": 3.0, "disculpe": 3.0, "disculpa": 3.0, "perdon": 2.5,
    "mande": 1.5, "dime": 1.0, "pasa": 2.0, "paso": 1.5, "pasando": 2.5, "dijeron": 3.0,
    "entendido": 3.0, "asaltaron": 3.0, "asalto": 3.0, "dnd": 2.0,
    # greetings and politeness
    "hola": 3.0, "ola": 1.5, "gracias": 3.0, "grasias": 3.0, "gracia": 2.5, "grax": 2.5,
    "favor": 1.5, "porfavor": 3.0, "porfa": 3.0, "xfa": 3.0, "buenos": 3.0, "buenas": 3.0,
    "bueno": 2.5, "dias": 2.5, "tardes": 3.0, "noches": 3.0, "senor": 2.5, "senora": 2.5,
    "claro": 2.0, "adios": 3.0,
    # this department's vocabulary
    "policia": 3.0, "policias": 3.0, "oficial": 1.5, "reunion": 1.5, "reuniones": 3.0,
    "vecindario": 3.0, "vecino": 3.0, "vecinos": 3.0, "vecina": 3.0, "barrio": 2.0,
    "denuncia": 3.0, "reporte": 3.0, "robo": 3.0, "robado": 3.0, "robada": 3.0,
    "ladron": 3.0, "ladrones": 3.0, "ayuda": 3.0, "carro": 2.5, "coche": 2.5, "casa": 2.0,
    "ruido": 3.0, "queja": 3.0, "informacion": 3.0, "numero": 2.5, "telefono": 2.5,
    "pregunta": 3.0, "oficina": 3.0, "horario": 3.0, "abierto": 3.0, "abierta": 3.0,
    "cerrado": 3.0, "cerrada": 3.0, "cita": 2.5, "multa": 3.0, "licencia": 3.0,
    "emergencia": 3.0, "accidente": 3.0, "gente": 2.5, "persona": 1.5, "personas": 2.0,
    "sospechoso": 3.0, "sospechosa": 3.0, "perro": 3.0, "hijo": 3.0, "hija": 3.0,
    "esposo": 3.0, "esposa": 3.0, "trabajo": 3.0, "dinero": 3.0, "comunidad": 3.0,
    "seguridad": 3.0, "estado": 2.0, "espanol": 2.0, "ingles": 2.0,
    "calle": 0.0,  # known but neutral: street names are written the same in both languages
    "semana": 3.0, "proxima": 3.0, "proximo": 3.0, "hora": 2.0, "horas": 2.0,
    "afuera": 3.0, "puerta": 3.0, "ventana": 3.0, "mensaje": 3.0, "correo": 3.0,
    "problema": 2.0, "caso": 1.5, "choque": 3.0, "velocidad": 3.0, "estacionado": 3.0,
}

ENGLISH_WORDS: dict[str, float] = {
    # function words
    "the": 2.5, "an": 1.5, "and": 2.5, "is": 2.0, "are": 2.5, "was": 2.5, "were": 2.5,
    "be": 1.5, "been": 2.5, "i": 2.0, "you": 3.0, "u": 1.5, "ur": 1.5, "he": 1.0, "she": 2.0,
    "it": 2.0, "its": 2.0, "it's": 2.5, "we": 2.0, "they": 2.5, "my": 2.5, "your": 2.5,
    "our": 2.0, "their": 2.5, "this": 2.5, "that": 2.5, "these": 2.5, "those": 2.5,
    "what": 2.5, "wat": 2.0, "whats": 2.5, "what's": 2.5, "where": 2.5, "when": 2.5,
    "why": 2.5, "how": 2.5, "who": 2.0, "which": 2.5, "can": 2.0, "could": 2.5, "would": 2.5,
    "should": 2.5, "will": 2.0, "do": 1.5, "does": 2.5, "did": 2.5, "don't": 2.5, "dont": 2.0,
    "can't": 2.5, "cant": 1.5, "i'm": 2.5, "im": 1.5, "to": 2.0, "of": 2.0, "in": 1.5,
    "on": 1.5, "at": 1.5, "for": 2.0, "with": 2.5, "from": 2.5, "about": 2.5, "there": 2.5,
    "here": 2.0, "not": 2.0, "just": 2.0, "or": 1.5, "but": 2.0, "so": 1.5, "if": 2.0,
    "some": 2.5, "any": 2.5, "have": 3.0, "has": 2.5, "had": 2.5, "am": 1.5, "into": 2.5,
    "out": 2.0, "up": 1.5, "down": 2.0, "over": 2.0, "after": 2.5, "before": 2.5,
    "again": 2.5, "still": 2.5, "also": 2.0, "very": 2.5, "really": 2.5, "all": 2.0,
    "else": 2.5, "something": 3.0, "anything": 3.0, "nothing": 3.0, "everything": 3.0,
    "someone": 3.0, "somebody": 3.0, "anyone": 3.0, "people": 3.0, "person": 2.5,
    # verbs residents use
    "want": 3.0, "wanna": 3.0, "need": 3.0, "needs": 3.0, "help": 3.0, "know": 3.0,
    "tell": 2.5, "call": 2.0, "get": 2.0, "got": 2.0, "speak": 2.5, "talk": 2.5, "see": 2.0,
    "saw": 2.5, "think": 3.0, "find": 2.5, "went": 3.0, "go": 1.5, "going": 3.0, "come": 1.0,
    "make": 2.5, "file": 2.0, "stole": 3.0, "stolen": 3.0, "broke": 2.5, "broken": 2.5,
    "parked": 2.5, "keep": 2.5, "keeps": 2.5, "live": 2.0, "lives": 2.5,
    # greetings and politeness
    "please": 3.0, "pls": 2.5, "plz": 2.5, "plese": 2.5, "thanks": 3.0, "thank": 3.0,
    "thx": 2.5, "thanx": 2.5, "ty": 1.0, "hello": 3.0, "hey": 1.0, "hi": 1.0, "yes": 1.0,
    "yeah": 2.0, "yep": 1.5, "sorry": 2.0, "good": 2.5, "morning": 3.0, "afternoon": 3.0,
    "evening": 3.0, "bye": 1.0,
    # this department's vocabulary
    "police": 3.0, "officer": 3.0, "cop": 2.5, "cops": 2.5, "report": 3.0, "theft": 3.0,
    "car": 2.0, "truck": 2.5, "neighbor": 3.0, "neighbors": 3.0, "neighbour": 3.0,
    "neighborhood": 3.0, "neighbourhood": 3.0, "meeting": 3.0, "meetings": 3.0,
    "community": 3.0, "noise": 3.0, "loud": 3.0, "complaint": 3.0, "house": 3.0, "home": 2.0,
    "phone": 2.0, "number": 2.5, "time": 2.0, "today": 3.0, "tomorrow": 3.0,
    "yesterday": 3.0, "night": 2.5, "week": 3.0, "next": 2.5, "office": 2.5, "hours": 2.5,
    "open": 2.0, "closed": 2.5, "ticket": 2.5, "license": 2.5, "dog": 2.5, "kid": 2.5,
    "kids": 2.5, "son": 1.0, "daughter": 3.0, "wife": 3.0, "husband": 3.0, "work": 2.5,
    "money": 3.0, "english": 2.0, "spanish": 2.0, "question": 3.0, "information": 3.0,
    "schedule": 3.0, "appointment": 3.0, "emergency": 3.0, "accident": 2.5,
    "suspicious": 3.0, "outside": 3.0, "door": 3.0, "window": 3.0, "status": 1.5,
    "speeding": 3.0, "safety": 3.0, "message": 2.5, "email": 1.5,
    "street": 0.0,  # known but neutral: addresses do not tell the language
    "problem": 2.0, "case": 1.5, "crash": 2.5, "last": 2.0, "guy": 2.5, "bike": 2.5,
}

# Endings of words neither list knows, as (ending, language, weight); the first match counts.
ENDINGS: tuple[tuple[str, str, float], ...] = (
    ("ciones", "es", 1.5), ("cion", "es", 1.5), ("mente", "es", 1.5), ("idad", "es", 1.2),
    ("iendo", "es", 1.2), ("ando", "es", 1.2), ("ieron", "es", 1.2), ("aron", "es", 1.2),
    ("amos", "es", 1.0), ("emos", "es", 1.0), ("imos", "es", 1.0), ("eza", "es", 1.0),
    ("ados", "es", 0.8), ("adas", "es", 0.8), ("idos", "es", 0.8), ("idas", "es", 0.8),
    ("ado", "es", 0.8), ("ada", "es", 0.8), ("ido", "es", 0.8), ("ida", "es", 0.8),
    ("ito", "es", 0.5), ("ita", "es", 0.5),
    ("tions", "en", 1.2), ("tion", "en", 1.2), ("ness", "en", 1.2), ("ould", "en", 1.2),
    ("ing", "en", 1.2), ("ight", "en", 1.0), ("ful", "en", 1.0), ("ly", "en", 0.8),
    ("ed", "en", 0.6),
)
# Letter pairs English has and Spanish spelling lacks, for unknown words.
ENGLISH_LETTERS: tuple[str, ...] = ("th", "sh", "w", "ck", "ph", "oo")
ENGLISH_LETTERS_WEIGHT = 0.6

SPANISH_ACCENTED = frozenset("áéíóúñü")
SPANISH_WORD_WEIGHT = 1.0  # a lowercase word with á é í ó ú ñ ü
SPANISH_NAME_WEIGHT = 0.5  # a capitalized one: names (María López) say little
SPANISH_MARK_WEIGHT = 2.5  # ¿ and ¡, counted at most twice each
FUZZY_WEIGHT = 0.6  # share of a word's weight when only a one-letter typo away
FUZZY_MIN_LENGTH = 5

# -- explicit requests -----------------------------------------------------------------------

LANGUAGE_NAMES: dict[str, str] = {
    "english": "en", "ingles": "en", "inglish": "en", "englsh": "en", "engish": "en",
    "englis": "en", "enlish": "en",
    "spanish": "es", "espanol": "es", "espaniol": "es", "espanish": "es", "spanich": "es",
    "spanis": "es", "castellano": "es",
}
# Words that show a message is about which language to use.
CHOICE_CUES: frozenset[str] = frozenset({
    "in", "en", "speak", "speaks", "speaking", "habla", "hablas", "hablar", "hablan", "hable",
    "hablo", "talk", "prefer", "prefiero", "switch", "change", "cambiar", "cambia", "cambie",
    "reply", "respond", "responder", "responda", "contestar", "conteste", "write", "escribir",
    "escriba", "escribe", "please", "pls", "plz", "favor", "porfa", "porfavor", "language",
    "idioma", "lenguaje", "understand", "entiendo", "entender", "read", "leer",
})
# Other words a language request is made of; anything outside both sets is "unknown".
CHOICE_FILLER: frozenset[str] = frozenset({
    "por", "the", "el", "a", "al", "to", "ok", "okay", "si", "yes", "yeah", "can", "could",
    "you", "u", "ya", "do", "does", "is", "there", "hay", "i", "yo", "me", "we", "want",
    "quiero", "would", "like", "gustaria", "speak", "someone", "somebody", "anyone", "alguien",
    "que", "who", "quien", "puede", "puedes", "pueden", "podria", "podrias", "mi", "my",
    "only", "solo", "solamente", "just", "now", "ahora", "continue", "continuar", "seguir",
    "sigue", "lets", "let's", "go", "back", "de", "nuevo", "otra", "vez", "un", "una",
    "sorry", "hi", "hello", "hola", "hey", "thanks", "gracias", "also", "tambien", "better",
    "mejor", "send", "mandar", "manda", "messages", "mensajes", "need", "necesito", "with",
    "con", "have", "tienen", "tiene", "usted", "ustedes", "are", "r", "your", "su", "and",
    "y", "or", "o", "texts", "text", "it", "this", "esto", "be", "ser", "am", "estoy", "es",
    "much", "well", "very", "muy", "bien", "little", "poco",
})
NEGATIONS: frozenset[str] = frozenset({
    "no", "not", "don't", "dont", "doesn't", "doesnt", "can't", "cant", "cannot", "nope",
    "nada", "never", "nunca",
})
MAX_REQUEST_WORDS = 8

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
_CLAUSE = re.compile(r"[,.;:!?¿¡/()\n]+")
_NOISE = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\S+", re.IGNORECASE)


@dataclass(frozen=True)
class LanguageGuess:
    language: str | None
    confidence: float


def _strip_accents(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(text: str) -> list[str]:
    """Words with their original case and accents; URLs and e-mail addresses removed."""
    text = unicodedata.normalize("NFC", _NOISE.sub(" ", text))
    return [w.replace("\u2019", "'") for w in _WORD.findall(text)]


_STRETCHED = re.compile(r"(.)\1{2,}")


def _key(word: str) -> str:
    return _strip_accents(word.casefold())


def _known(key: str) -> str:
    """The lexicon spelling of a stretched word ("holaaa", "pleeease"), else the key itself."""
    if key in SPANISH_WORDS or key in ENGLISH_WORDS or not _STRETCHED.search(key):
        return key
    for repeat in (r"\1", r"\1\1"):
        candidate = _STRETCHED.sub(repeat, key)
        if candidate in SPANISH_WORDS or candidate in ENGLISH_WORDS:
            return candidate
    return _STRETCHED.sub(r"\1", key)


def _distance_at_most_one(a: str, b: str) -> bool:
    """Levenshtein distance <= 1, or one swap of neighbouring letters."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


@lru_cache(maxsize=4096)
def _fuzzy(key: str) -> tuple[str, float] | None:
    """A typo of a known long word ("nesecitamos", "neighbrhood"), when only one language fits."""
    if len(key) < FUZZY_MIN_LENGTH:
        return None
    found: dict[str, float] = {}
    for language, lexicon in (("es", SPANISH_WORDS), ("en", ENGLISH_WORDS)):
        for word, weight in lexicon.items():
            if weight > 0 and len(word) >= FUZZY_MIN_LENGTH and _distance_at_most_one(key, word):
                found[language] = max(found.get(language, 0.0), weight)
    if len(found) != 1:
        return None
    language, weight = next(iter(found.items()))
    return language, weight * FUZZY_WEIGHT


def _unknown_word(word: str, key: str) -> tuple[str, float] | None:
    if "'" in key:
        return "en", 1.0  # neighbor's, y'all: Spanish has no apostrophes
    typo = _fuzzy(key)
    if typo is not None:
        return typo
    if len(key) < FUZZY_MIN_LENGTH or word[:1].isupper():
        return None  # short words and names (Colorado, Florida) carry no ending signal
    for ending, language, weight in ENDINGS:
        if key.endswith(ending):
            return language, weight
    if any(pair in key for pair in ENGLISH_LETTERS):
        return "en", ENGLISH_LETTERS_WEIGHT
    return None


def _scores(text: str) -> dict[str, float]:
    scores = {"en": 0.0, "es": 0.0}
    scores["es"] += SPANISH_MARK_WEIGHT * (min(text.count("¿"), 2) + min(text.count("¡"), 2))
    for word in _words(text):
        key = _known(_key(word))
        lower = word.casefold()
        if any(c in SPANISH_ACCENTED for c in lower):
            scores["es"] += SPANISH_NAME_WEIGHT if word[:1].isupper() else SPANISH_WORD_WEIGHT
        if key in SPANISH_WORDS or key in ENGLISH_WORDS:
            scores["es"] += SPANISH_WORDS.get(key, 0.0)
            scores["en"] += ENGLISH_WORDS.get(key, 0.0)
            continue
        signal = _unknown_word(word, key)
        if signal is not None:
            scores[signal[0]] += signal[1]
    return scores


def detect(text: str) -> LanguageGuess:
    """The language a message is written in, or None when it carries too little to tell."""
    if text.lstrip().startswith("/"):
        return LanguageGuess(None, 0.0)  # a Rasa payload from a button, not the resident's words
    scores = _scores(text)
    winner = max(scores, key=lambda lang: scores[lang])
    loser = "es" if winner == "en" else "en"
    margin = scores[winner] - scores[loser]
    if scores[winner] < MIN_EVIDENCE or margin <= 0:
        return LanguageGuess(None, 0.0)
    return LanguageGuess(winner, round(math.tanh(margin / CONFIDENCE_SCALE), 3))


def explicit_request(text: str) -> str | None:
    """The language a short message asks for ("english please", "hablas español?"), else None.

    "no hablo inglés" asks for Spanish: a negation in the same clause points to the other
    language. A message that names both languages without deciding returns None.
    """
    keys = [_key(w) for w in _words(text)]
    if not keys or len(keys) > MAX_REQUEST_WORDS:
        return None
    named = [LANGUAGE_NAMES[k] for k in keys if k in LANGUAGE_NAMES]
    if not named:
        return None
    unknown = [k for k in keys if k not in LANGUAGE_NAMES and k not in CHOICE_CUES
               and k not in CHOICE_FILLER and k not in NEGATIONS]
    has_cue = any(k in CHOICE_CUES for k in keys)
    if len(unknown) > (1 if has_cue else 0):
        return None
    verdicts: set[str] = set()
    for clause in _CLAUSE.split(unicodedata.normalize("NFC", text)):
        negated = False
        for key in (_key(w) for w in _words(clause)):
            if key in NEGATIONS:
                negated = True
            elif key in LANGUAGE_NAMES:
                language = LANGUAGE_NAMES[key]
                verdicts.add(("es" if language == "en" else "en") if negated else language)
    return verdicts.pop() if len(verdicts) == 1 else None


def choose(current: str | None, text: str, default: str = "en", supported: Sequence[str] = ("en", "es")) -> str:
    """The reply language: an explicit request, else a confident detection, else no change."""
    requested = explicit_request(text)
    if requested is not None and requested in supported:
        return requested
    settled = current is not None and current in supported
    guess = detect(text)
    threshold = SWITCH_CONFIDENCE if settled else ADOPT_CONFIDENCE
    if guess.language is not None and guess.language in supported and guess.confidence >= threshold:
        return guess.language
    if current is not None and settled:
        return current
    return default if default in supported else supported[0]

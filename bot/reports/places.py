"""Where a non-emergency report happened: read the place out of a resident's text, normalise
it, and say whether it is the department's to handle.

Rule-based on purpose (a tokenizer, a few patterns and small English/Spanish word lists, no
geocoding service): staff can see why a place was read the way it was, nothing leaves the
server, and a wrong guess is cheap because the report form confirms the place with the resident.

Kinds of place: "address" ("123 N Main St", "the 1200 block of Harbor Blvd"), "intersection"
("Main St & 5th Ave"), "landmark" ("the Safeway parking lot") and "street" (a street alone, "on
Main St": the form should ask for a number or a cross street). Places relative to the resident's
home ("in front of my house", "mi casa") are not places here: only the resident knows where that
is, so the form asks for the address.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from bot.department import DepartmentProfile, OtherAgency, ProfileError

KINDS = ("address", "intersection", "landmark", "street")

# -- word lists --------------------------------------------------------------------------------

SUFFIXES: dict[str, str] = {
    "st": "St", "str": "St", "street": "St", "stret": "St", "steet": "St", "sreet": "St",
    "strt": "St", "stree": "St", "streeet": "St",
    "ave": "Ave", "av": "Ave", "avenue": "Ave", "avenu": "Ave", "avn": "Ave", "aveune": "Ave",
    "avnue": "Ave", "avene": "Ave",
    "blvd": "Blvd", "blv": "Blvd", "bvld": "Blvd", "boulevard": "Blvd", "boulvard": "Blvd",
    "bulevard": "Blvd", "blvrd": "Blvd",
    "rd": "Rd", "road": "Rd", "raod": "Rd",
    "dr": "Dr", "drive": "Dr", "drv": "Dr",
    "ln": "Ln", "lane": "Ln",
    "ct": "Ct", "court": "Ct", "crt": "Ct",
    "pl": "Pl", "place": "Pl",
    "hwy": "Hwy", "highway": "Hwy", "hiway": "Hwy", "hwy.": "Hwy",
    "way": "Way", "pkwy": "Pkwy", "parkway": "Pkwy", "cir": "Cir", "circle": "Cir",
    "ter": "Ter", "terrace": "Ter", "loop": "Loop",
}
# Whole words that are street types but also everyday words ("a long drive", "my place"):
# without a house number or a cross street they are not enough to call something a street.
WEAK_SUFFIXES = {"drive", "place", "court", "way", "circle", "lane", "terrace", "loop", "ter", "cir"}
# Spanish puts the street type first: "calle Elm", "avenida 5". "calle" says nothing about the
# English type (St? Ave?), so it gives none, and matches any configured type.
PREFIXES: dict[str, str | None] = {
    "calle": None, "avenida": "Ave", "av": "Ave", "avda": "Ave", "bulevar": "Blvd",
    "boulevard": "Blvd", "blvd": "Blvd", "camino": "Rd",
}
DIRECTIONS: dict[str, str] = {
    "n": "N", "north": "N", "norte": "N", "s": "S", "south": "S", "sur": "S",
    "e": "E", "east": "E", "w": "W", "west": "W", "oeste": "W",
    "ne": "NE", "northeast": "NE", "nw": "NW", "northwest": "NW",
    "se": "SE", "southeast": "SE", "sw": "SW", "southwest": "SW",
}
ORDINAL_WORDS: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "fith": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "eigth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
    "thirteenth": 13, "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17,
    "eighteenth": 18, "nineteenth": 19, "twentieth": 20,
    "primera": 1, "primero": 1, "segunda": 2, "tercera": 3, "cuarta": 4, "quinta": 5, "sexta": 6,
    "septima": 7, "setima": 7, "octava": 8, "novena": 9, "decima": 10,
}
_ORDINAL_DIGITS = re.compile(r"^(\d{1,3})(st|nd|rd|th|ht|ts|ra|ro|da|do|ta|to|va|vo|na|no|ma|mo|°|º)$")
_BARE_NUMBER = re.compile(r"^\d{1,2}$")
_HOUSE_NUMBER = re.compile(r"^\d{1,6}[a-z]?$")
_ZIP = re.compile(r"^(\d{5})(?:-\d{4})?$")
_HIGHWAY_TOKEN = re.compile(r"^(i|us|hwy|sr|or|rt|rte)-?(\d{1,3})$")
_HIGHWAY_WORDS = {"hwy", "highway", "hiway", "route", "rt", "rte", "us", "sr", "carretera", "autopista"}
_INTERSTATE_WORDS = {"interstate"}

UNIT_WORDS: dict[str, str] = {
    "apt": "Apt", "apartment": "Apt", "apto": "Apt", "apartamento": "Apt", "depto": "Apt",
    "departamento": "Apt", "unit": "Unit", "ste": "Ste", "suite": "Ste", "space": "Space",
    "spc": "Space", "lot": "Lot",
}

# Words that never start or continue a street name: grammar, people, things residents report,
# and time words. Verbs cannot all be listed; `_verb_like` catches most of the rest.
STOPWORDS = set("""
a an the this that these those my mine your yours his her hers our ours their theirs its me i im
i'm you he she we they it it's them us him someone somebody anyone anybody something nothing
people guy guys man men woman women lady kid kids boy boys girl girls person neighbor neighbors
neighbour car cars truck trucks van vehicle vehicles bike bikes bicycle motorcycle house home
garage driveway yard window windows door doors wall walls fence mailbox package packages dog dogs
cat cats trash garbage graffiti noise music party fireworks stuff things thing wallet phone purse
is was were be been being are am has have had do did does done and or but if so to of in on at by
for from with without into onto near behind across between around about over under after before
up down out off just also too very really there here where when what who why how not no yes ok
okay please thanks thank hi hello hey all some any every each last next ago today tonight
yesterday morning afternoon evening night now pm noon midnight hour hours minute minutes day days
week weeks time times got get gets getting broke broken stole stolen took left went came come saw
see seen heard hear keeps keep again still like lot lots corner intersection block street streets
road roads avenue happened happen happens going gone can could would should will may might must
one two three four five six seven eight nine ten twice once then than same other another
again while during since until till because though although maybe probably think thought know
knew said says say tell told want wanted need needed help report reporting call called calling
apt apartment unit suite ste monday tuesday wednesday thursday friday saturday sunday weekend
el la los las lo un una unos unas mi mis su sus tu tus nuestro nuestra de del al y o e con por
para en que se me te le les nos es son fue fueron era eran esta estan este esto estaba estaban hay
habia alguien algo nada carro carros coche auto casa ventana puerta perro basura ruido fiesta
hoy ayer anoche manana tarde noche ahora hace hora horas minutos dias dia semana cerca detras
atras frente lado enfrente afuera adentro dentro fuera entre esquina cruce junto no si muy ya
tambien pero cuando donde como cual quien robaron rompieron dejaron pintaron vi vio vimos paso
pasando estoy esta estamos tengo tiene tienen mas menos otra otro gente senor senora nino ninos
lunes martes miercoles jueves viernes sabado domingo semana
""".split())

_VERB_ENDINGS = re.compile(r"(?:ed|ing|ly|aron|ieron|ando|iendo|aban)$")
_KEEP_ENDINGS = {"king", "spring", "ring", "wing", "sterling", "irving", "red", "reed", "reid", "ted",
                 "fred", "ned", "bed", "seed", "creed", "ridge", "wood", "oakwood", "fernando", "orlando"}

CONNECTORS = {"&": "amp", "and": "and", "y": "and", "con": "and", "at": "at", "@": "amp", "/": "amp"}
_INTERSECTION_CUES: list[tuple[str, ...]] = [
    ("corner", "of"), ("corner",), ("intersection", "of"), ("intersection",), ("esquina", "de"),
    ("esquina",), ("cruce", "de"), ("cruce",), ("entre",), ("between",), ("calles",),
]
# Qualifiers that say where relative to the place; kept as `detail` (canonical English).
_QUALIFIERS: list[tuple[tuple[str, ...], str | None]] = [
    (("across", "the", "street", "from"), "across from"), (("in", "front", "of"), "in front of"),
    (("en", "frente", "de"), "in front of"), (("en", "frente", "del"), "in front of"),
    (("enfrente", "de"), "in front of"), (("enfrente", "del"), "in front of"),
    (("frente", "a"), "in front of"), (("frente", "al"), "in front of"),
    (("al", "lado", "de"), "next to"), (("al", "lado", "del"), "next to"),
    (("a", "un", "lado", "de"), "next to"), (("junto", "a"), "next to"), (("junto", "al"), "next to"),
    (("next", "to"), "next to"), (("across", "from"), "across from"), (("close", "to"), "near"),
    (("cerca", "de"), "near"), (("cerca", "del"), "near"), (("detras", "de"), "behind"),
    (("detras", "del"), "behind"), (("atras", "de"), "behind"), (("atras", "del"), "behind"),
    (("afuera", "de"), "outside"), (("afuera", "del"), "outside"), (("fuera", "de"), "outside"),
    (("fuera", "del"), "outside"), (("dentro", "de"), "inside"), (("dentro", "del"), "inside"),
    (("adentro", "de"), "inside"), (("adentro", "del"), "inside"), (("outside", "of"), "outside"),
    (("inside", "of"), "inside"), (("behind",), "behind"), (("near",), "near"), (("nearby",), "near"),
    (("by",), "near"), (("around",), "near"), (("outside",), "outside"), (("inside",), "inside"),
    (("at",), None), (("in",), None), (("on",), None), (("en",), None), (("from",), None),
    (("past",), None), (("por",), None), (("along",), None), (("down",), None), (("off",), None),
    (("sobre",), None), (("a",), None), (("al",), None), (("del",), None), (("de",), None),
]
# Cues that a place follows ("at", "near", "en"): enough to read "at elm and oak" as streets.
_LOCATION_CUES: list[tuple[str, ...]] = [cue for cue, detail in _QUALIFIERS if detail] + [
    ("at",), ("on",), ("in",), ("en",), ("along",), ("down",), ("sobre",), ("por",)]

# Landmarks: a head noun says "this is a place". Institution heads are title-cased after a
# proper name ("Lincoln Elementary", "Harbor Park"); other heads stay lowercase
# ("the Safeway parking lot").
INSTITUTION_HEADS = {
    "park", "school", "elementary", "library", "church", "center", "centre", "mall", "plaza",
    "hospital", "academy", "college", "beach", "bridge", "marina", "pier", "cemetery", "apartments",
    "market", "cafe", "museum", "stadium", "field", "pool", "gym", "clinic",
}
HEADS = INSTITUTION_HEADS | {
    "lot", "garage", "station", "stop", "store", "shop", "supermarket", "office", "complex",
    "playground", "court", "courts", "bank", "restaurant", "bar", "dock", "trail", "underpass",
    "overpass", "alley", "motel", "hotel", "temple", "mosque", "laundromat", "ramp", "building",
    "parque", "escuela", "colegio", "secundaria", "primaria", "preparatoria", "biblioteca", "iglesia",
    "tienda", "mercado", "supermercado", "plaza", "estacion", "gasolinera", "parada",
    "estacionamiento", "parqueadero", "parqueo", "cancha", "piscina", "alberca", "clinica",
    "correo", "banco", "restaurante", "muelle", "puerto", "playa", "puente", "callejon",
    "apartamentos", "departamentos", "edificio", "cementerio", "centro", "hospital", "gimnasio",
}
# Lower-case describing words inside a landmark ("the old library", "bus stop", "parking lot").
GENERIC = {
    "old", "new", "big", "small", "little", "public", "city", "county", "back", "front", "empty",
    "vacant", "abandoned", "main", "local", "downtown", "nearby", "same", "other", "closed",
    "parking", "gas", "bus", "high", "middle", "community", "post", "fire", "train", "apartment",
    "shopping", "grocery", "dollar", "convenience", "skate", "dog", "boat", "basketball", "tennis",
    "baseball", "soccer", "football", "police", "elementary", "swimming", "corner", "north", "south",
    "east", "west", "comunitario", "comercial", "publica", "publico", "vieja", "viejo", "nueva",
    "nuevo", "grande", "de", "del", "of", "autobus", "bus", "camion", "policia", "bomberos",
}
ARTICLES = {"the", "a", "an", "this", "that", "el", "la", "los", "las", "un", "una", "este", "esta",
            "ese", "esa", "aquel", "aquella"}
POSSESSIVES = {"my", "our", "your", "his", "her", "their", "mi", "mis", "nuestro", "nuestra",
               "nuestros", "nuestras", "tu", "tus", "su", "sus"}
BRANDS: dict[str, str] = {
    "safeway": "Safeway", "walmart": "Walmart", "target": "Target", "costco": "Costco",
    "walgreens": "Walgreens", "starbucks": "Starbucks", "mcdonalds": "McDonald's",
    "mcdonald's": "McDonald's", "7-eleven": "7-Eleven", "7-11": "7-Eleven", "dollar tree": "Dollar Tree",
    "fred meyer": "Fred Meyer", "home depot": "Home Depot", "taco bell": "Taco Bell",
    "winco": "WinCo", "chevron": "Chevron", "shell": "Shell", "arco": "Arco",
}


# -- values ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Street:
    """One street, normalised: `display` is how staff and residents see it ("N Main St",
    "Hwy 101", "I-5"); `key` is what matching uses (no direction: "n main st" is "main st")."""

    name: str
    suffix: str | None = None
    direction: str | None = None
    post_direction: str | None = None

    @property
    def display(self) -> str:
        if self.suffix == "I":
            return f"I-{self.name}"
        if self.suffix == "Hwy" and self.name.isdigit():
            core = f"Hwy {self.name}"
        else:
            core = " ".join(part for part in (self.name, self.suffix) if part)
        return " ".join(part for part in (self.direction, core, self.post_direction) if part)

    @property
    def key(self) -> str:
        return fold_in_place(self.name).lower()


@dataclass(frozen=True)
class Place:
    """Where it happened. `text` is the display string; `streets` the street names it mentions
    (for the service-area check); `detail` a qualifier ("behind", "near"); `landmark` a landmark
    named alongside an address or intersection; `lat`/`lon` only when a caller knows them."""

    kind: str
    text: str
    streets: tuple[str, ...] = ()
    house_number: str | None = None
    unit: str | None = None
    zipcode: str | None = None
    detail: str | None = None
    landmark: str | None = None
    lat: float | None = None
    lon: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"place kind must be one of {', '.join(KINDS)}, not {self.kind!r}")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (a Rasa slot value): lists instead of tuples."""
        data = asdict(self)
        data["streets"] = list(self.streets)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Place":
        values = {key: data.get(key) for key in cls.__dataclass_fields__}
        values["streets"] = tuple(data.get("streets") or ())
        return cls(**values)


# -- text handling -----------------------------------------------------------------------------

def fold_in_place(text: str) -> str:
    """Lower-case, accents off, one character for one ("mañana" -> "manana"), so positions in
    the folded text are positions in the original."""
    out = []
    for char in text:
        lower = char.lower()
        base = unicodedata.normalize("NFKD", lower if len(lower) == 1 else char)
        out.append(base[0] if base else char)
    return "".join(out)


_TOKEN = re.compile(r"[0-9a-zñáéíóúü°º]+(?:['’\-][0-9a-zñáéíóúü]+)*|[&/@#,;:.!?()]")


class _Tokens:
    """The message as words: `raw` keeps accents for display, `low` is folded for matching."""

    def __init__(self, text: str) -> None:
        text = unicodedata.normalize("NFC", text).lower().replace("’", "'")
        # A dot after a letter is an abbreviation ("st.", "n.") far more often than a sentence end.
        text = re.sub(r"(?<=[a-zñáéíóú])\.", " ", text)
        self.raw = [match.group(0) for match in _TOKEN.finditer(text)]
        self.low = [fold_in_place(token) for token in self.raw]
        self.n = len(self.raw)

    def at(self, index: int) -> str:
        return self.low[index] if 0 <= index < self.n else ""

    def matches(self, index: int, words: Sequence[str]) -> bool:
        return all(self.at(index + offset) == word for offset, word in enumerate(words))


def _title(word: str) -> str:
    return word[:1].upper() + word[1:] if word[:1].isalpha() else word


def _ordinal(number: int) -> str:
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


def _ordinal_of(word: str) -> str | None:
    """"5th", "5rd" (typo), "fifth", "quinta", "5ta" -> "5th"."""
    if word in ORDINAL_WORDS:
        return _ordinal(ORDINAL_WORDS[word])
    match = _ORDINAL_DIGITS.match(word)
    if match and 0 < int(match.group(1)):
        return _ordinal(int(match.group(1)))
    return None


def _verb_like(word: str) -> bool:
    return bool(_VERB_ENDINGS.search(word)) and len(word) > 4 and word not in _KEEP_ENDINGS


def _name_word(word: str) -> bool:
    return (bool(re.fullmatch(r"[a-z][a-z'\-]*", word)) and len(word) > 1 and word not in STOPWORDS
            and word not in CONNECTORS)


# -- streets -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Found:
    street: Street
    start: int
    end: int
    strong: bool   # a street type, an ordinal or a highway: clearly a street


def _highway_at(tokens: _Tokens, i: int) -> _Found | None:
    word = tokens.at(i)
    match = _HIGHWAY_TOKEN.match(word)
    if match and (match.group(1) != "or" or "-" in word):
        kind = "I" if match.group(1) == "i" else "Hwy"
        return _Found(Street(str(int(match.group(2))), kind), i, i + 1, True)
    following = tokens.at(i + 1)
    if word in _HIGHWAY_WORDS | _INTERSTATE_WORDS and re.fullmatch(r"\d{1,3}", following or "-"):
        if word in {"us", "sr"} and len(following) < 2:
            return None   # "told us 5 times"
        kind = "I" if word in _INTERSTATE_WORDS else "Hwy"
        return _Found(Street(str(int(following)), kind), i, i + 2, True)
    if word in {"state"} and tokens.at(i + 1) in {"route", "highway", "hwy"} and tokens.at(i + 2).isdigit():
        return _Found(Street(str(int(tokens.at(i + 2))), "Hwy"), i, i + 3, True)
    return None


def _street_at(tokens: _Tokens, i: int, *, bare_number: bool = False, after_number: bool = False,
               strict: bool = False) -> _Found | None:
    """The street starting at token `i`, if any. `bare_number` lets "5" mean 5th (only where a
    cross street makes that clear); `after_number` follows a house number, which makes a
    direction or a one-word name enough; `strict` refuses verb-like words in multi-word names."""
    if i >= tokens.n:
        return None
    found = _highway_at(tokens, i)
    if found:
        return found
    word = tokens.at(i)
    # Spanish order: "calle elm", "avenida 5", "la calle de la paz"
    if word in PREFIXES and i + 1 < tokens.n:
        j = i + 1
        while tokens.at(j) in {"de", "la", "el"} and j < i + 3:
            j += 1
        ordinal = _ordinal_of(tokens.at(j)) or (
            _ordinal(int(tokens.at(j))) if _BARE_NUMBER.match(tokens.at(j)) and int(tokens.at(j)) > 0 else None)
        if ordinal:
            return _Found(Street(ordinal, PREFIXES[word]), i, j + 1, True)
        names: list[str] = []
        while _name_word(tokens.at(j)) and len(names) < 3 and not (names and _verb_like(tokens.at(j))):
            names.append(tokens.raw[j])
            j += 1
        if names:
            return _Found(Street(" ".join(_title(name) for name in names), PREFIXES[word]), i, j, True)
        return None
    direction = None
    j = i
    if word in DIRECTIONS and (_name_word(tokens.at(i + 1)) or _ordinal_of(tokens.at(i + 1))):
        direction = DIRECTIONS[word]
        j = i + 1
    first = tokens.at(j)
    ordinal = _ordinal_of(first)
    if ordinal is None and bare_number and _BARE_NUMBER.match(first) and int(first) > 0:
        ordinal = _ordinal(int(first))
    if ordinal:
        end = j + 1
        suffix = SUFFIXES.get(tokens.at(end))
        if suffix:
            end += 1
        street = Street(ordinal, suffix, direction, _post_direction(tokens, end) if suffix else None)
        end += 1 if street.post_direction else 0
        if direction and not (suffix or after_number):
            return None
        return _Found(street, i, end, bool(suffix) or not _BARE_NUMBER.match(first))
    if not _name_word(first):
        return None
    # Collect name words and street types; the first type after at least one name word ends it.
    span: list[int] = []
    k = j
    while k < tokens.n and len(span) < 6 and (_name_word(tokens.at(k)) or tokens.at(k) in SUFFIXES):
        span.append(k)
        k += 1
    for position, index in enumerate(span):
        if position >= 1 and tokens.at(index) in SUFFIXES and position <= 4:
            names = [tokens.raw[m] for m in span[:position]]
            if strict and any(_verb_like(tokens.at(m)) for m in span[:position - 1]):
                return None
            end = index + 1
            post = _post_direction(tokens, end)
            street = Street(" ".join(_title(name) for name in names), SUFFIXES[tokens.at(index)], direction, post)
            return _Found(street, i, end + (1 if post else 0), tokens.at(index) not in WEAK_SUFFIXES)
    if direction and not after_number:
        return None
    if tokens.at(j) in SUFFIXES or strict and _verb_like(tokens.at(j)):
        return None   # "drive" alone is not a street name, nor is "tagged"
    return _Found(Street(_title(tokens.raw[j]), None, direction), i, j + 1, False)


def _post_direction(tokens: _Tokens, index: int) -> str | None:
    word = tokens.at(index)
    if word in DIRECTIONS and len(word) <= 2 and word not in {"e", "s"}:
        return DIRECTIONS[word]
    return None


def _street_ending_at(tokens: _Tokens, end: int, *, bare_number: bool = False) -> _Found | None:
    """The longest street that ends right before token `end` (the left side of "X and Y")."""
    best: _Found | None = None
    for start in range(end - 1, max(end - 6, -1), -1):
        if tokens.at(start) in {",", ".", ";", ":", "!", "?", "(", ")"}:
            break
        found = _street_at(tokens, start, bare_number=bare_number, strict=True)
        if found and found.end == end:
            best = found
    return best


def street_from_name(name: str) -> Street | None:
    """A configured street name ("N Main St", "Hwy 101", "5th Ave", "Martin Luther King Jr
    Blvd") as a Street, read with the same rules as residents' text so both sides match."""
    tokens = _Tokens(name)
    if tokens.n == 0:
        return None
    found = _highway_at(tokens, 0)
    if found and found.end == tokens.n:
        return found.street
    words = list(range(tokens.n))
    direction = post = suffix = None
    if len(words) > 1 and tokens.at(words[0]) in DIRECTIONS:
        direction = DIRECTIONS[tokens.at(words.pop(0))]
    if len(words) > 1 and tokens.at(words[-1]) in DIRECTIONS:
        post = DIRECTIONS[tokens.at(words.pop())]
    if len(words) > 1 and tokens.at(words[0]) in PREFIXES:
        suffix = PREFIXES[tokens.at(words.pop(0))]
    elif len(words) > 1 and tokens.at(words[-1]) in SUFFIXES:
        suffix = SUFFIXES[tokens.at(words.pop())]
    if len(words) == 1 and (_ordinal_of(tokens.at(words[0])) or _BARE_NUMBER.match(tokens.at(words[0]))):
        word = tokens.at(words[0])
        return Street(_ordinal_of(word) or _ordinal(int(word)), suffix, direction, post)
    return Street(" ".join(_title(tokens.raw[index]) for index in words), suffix, direction, post)


# -- the forms of a place ----------------------------------------------------------------------

@dataclass(frozen=True)
class _Candidate:
    kind: str
    start: int
    end: int
    text: str
    streets: tuple[str, ...]
    house_number: str | None = None
    unit: str | None = None


def _unit_at(tokens: _Tokens, index: int) -> tuple[str | None, int]:
    word = tokens.at(index)
    if word in UNIT_WORDS and word != "lot" or (word == "lot" and tokens.at(index + 1).isdigit()):
        value_index = index + 1 + (tokens.at(index + 1) in {"#", "no", "num", "number", "numero"})
        value = tokens.at(value_index)
        if re.fullmatch(r"[0-9a-z]{1,5}", value) and (any(c.isdigit() for c in value) or len(value) == 1):
            return f"{UNIT_WORDS[word]} {value.upper()}", value_index + 1
    if word == "#" and re.fullmatch(r"[0-9][0-9a-z]{0,4}", tokens.at(index + 1)):
        return f"#{tokens.at(index + 1).upper()}", index + 2
    return None, index


def _addresses(tokens: _Tokens) -> Iterable[_Candidate]:
    for i in range(tokens.n):
        if not _HOUSE_NUMBER.match(tokens.at(i)) or _ZIP.match(tokens.at(i)) and i > 0 and \
                tokens.at(i - 1) in {"or", "oregon", ","}:
            continue
        number = tokens.at(i).upper()
        # "the 1200 block of harbor blvd"
        if tokens.at(i + 1) == "block" and tokens.at(i + 2) == "of":
            found = _street_at(tokens, i + 3, after_number=True)
            if found:
                yield _Candidate("address", i - (tokens.at(i - 1) == "the"), found.end,
                                 f"{number} block of {found.street.display}", (found.street.display,), number)
            continue
        found = _street_at(tokens, i + 1, after_number=True)
        if not found:
            continue
        unit, end = _unit_at(tokens, found.end)
        # A number then a word is an address only with a street type, a direction, a unit or a ZIP
        # ("123 main st", "123 n main", "123 main apt 4"); "2 dogs" is not one, nor "2 long drive".
        zip_follows = bool(_ZIP.match(tokens.at(end)) or tokens.at(end) == "," and _ZIP.match(tokens.at(end + 1)))
        clear = bool(found.street.suffix or found.street.direction or unit or zip_follows)
        weak = bool(found.street.suffix) and not found.strong and not found.street.direction and len(number) < 2
        if not clear or weak:
            continue
        text = f"{number} {found.street.display}" + (f" {unit}" if unit else "")
        yield _Candidate("address", i, end, text, (found.street.display,), number, unit)
    # Spanish order: "calle elm 123", "calle elm #123", "avenida 5 numero 40"
    for i in range(tokens.n):
        if tokens.at(i) not in PREFIXES:
            continue
        found = _street_at(tokens, i)
        if not found:
            continue
        j = found.end + (tokens.at(found.end) in {"#", "no", "num", "numero"})
        if re.fullmatch(r"\d{1,6}", tokens.at(j)) and not _ZIP.match(tokens.at(j)):
            unit, end = _unit_at(tokens, j + 1)
            text = f"{tokens.at(j)} {found.street.display}" + (f" {unit}" if unit else "")
            yield _Candidate("address", i, end, text, (found.street.display,), tokens.at(j), unit)


def _cue_before(tokens: _Tokens, start: int, cues: Sequence[tuple[str, ...]]) -> int | None:
    """Where a cue phrase ending right before `start` begins (articles skipped)."""
    index = start
    while tokens.at(index - 1) in {"the", "la", "el", "las", "los"}:
        index -= 1
    for cue in cues:
        if index - len(cue) >= 0 and tokens.matches(index - len(cue), cue):
            return index - len(cue)
    return None


def _intersections(tokens: _Tokens) -> Iterable[_Candidate]:
    for k in range(1, tokens.n - 1):
        connector = CONNECTORS.get(tokens.at(k))
        if connector is None:
            continue
        right_start = k + 1
        marked = False
        if tokens.at(right_start) in {"la", "el", "the"}:
            marked = tokens.at(right_start) == "la" and bool(_BARE_NUMBER.match(tokens.at(right_start + 1)))
            right_start += 1
        right = _street_at(tokens, right_start, bare_number=True)
        left = _street_ending_at(tokens, k, bare_number=True)
        if not left or not right:
            continue
        left_marked = tokens.at(left.start - 1) == "la" and bool(_BARE_NUMBER.match(tokens.at(left.start)))
        bare = [bool(_BARE_NUMBER.match(tokens.at(side.start))) and not m
                for side, m in ((left, left_marked), (right, marked))]
        if all(bare) or (tokens.at(k) == "/" and any(bare)):
            continue   # "11/20", "2 and 3"
        strong_left, strong_right = left.strong or left_marked, right.strong or marked
        cue = _cue_before(tokens, left.start, _INTERSECTION_CUES) is not None or \
            _cue_before(tokens, left.start, _LOCATION_CUES) is not None
        if connector == "at":
            accepted = strong_left and strong_right and not any(bare)
        elif connector == "amp":
            accepted = True
        else:
            accepted = cue or ((strong_left or strong_right) and not any(bare))
        if not accepted:
            continue
        text = f"{left.street.display} & {right.street.display}"
        yield _Candidate("intersection", left.start, right.end, text,
                         (left.street.display, right.street.display))


def _streets_alone(tokens: _Tokens) -> Iterable[_Candidate]:
    for i in range(tokens.n):
        found = _street_at(tokens, i, strict=True)
        if not found or not (found.street.suffix or found.street.name.isdigit()):
            continue
        cued = _cue_before(tokens, i, _LOCATION_CUES) is not None
        if found.strong or cued and found.street.suffix:
            yield _Candidate("street", i, found.end, found.street.display, (found.street.display,))


def _landmark_text(tokens: _Tokens, indexes: list[int]) -> str:
    words: list[str] = []
    proper_before = False
    skip = False
    for position, index in enumerate(indexes):
        low, raw = tokens.at(index), tokens.raw[index]
        pair = f"{low} {tokens.at(indexes[position + 1])}" if position + 1 < len(indexes) else ""
        if skip:
            skip = False
            continue
        if pair in BRANDS:
            words.append(BRANDS[pair])
            proper_before, skip = True, True
        elif low in BRANDS:
            words.append(BRANDS[low])
            proper_before = True
        elif low in ARTICLES or low in {"de", "del", "of"}:
            words.append(raw)
            proper_before = False
        elif low in HEADS or low in GENERIC:
            title = proper_before and _institution_follows(tokens, indexes, index)
            words.append(_title(raw) if title else raw)
        else:
            words.append(_title(raw))
            proper_before = True
    return " ".join(words)


def _institution_follows(tokens: _Tokens, indexes: list[int], index: int) -> bool:
    """After a proper name, "high school" / "elementary" / "park" read as part of the name."""
    rest = [tokens.at(m) for m in indexes if m >= index]
    for word in rest:
        if word in INSTITUTION_HEADS:
            return True
        if word not in GENERIC:
            return False
    return False


def _landmarks(tokens: _Tokens) -> Iterable[tuple[_Candidate, str | None]]:
    for cue, detail in _QUALIFIERS:
        for i in range(tokens.n):
            if not tokens.matches(i, cue):
                continue
            j = i + len(cue)
            start = j
            if tokens.at(j) in POSSESSIVES:
                continue   # "in front of my house": only the resident knows where that is
            if tokens.at(j) in ARTICLES:
                j += 1
            if tokens.at(j) in POSSESSIVES:
                continue
            collected: list[int] = []
            while j < tokens.n and len(collected) < 6:
                word = tokens.at(j)
                pair = f"{word} {tokens.at(j + 1)}"
                if pair in BRANDS:
                    collected.append(j)
                    j += 1
                    collected.append(j)
                    j += 1
                    continue
                if word in HEADS or word in GENERIC or word in BRANDS or _name_word(word) and not _verb_like(word):
                    if word in {"de", "del", "of"} and not collected:
                        break
                    collected.append(j)
                    j += 1
                elif word in ARTICLES and collected and tokens.at(j - 1) in {"de", "of"}:
                    collected.append(j)
                    j += 1
                else:
                    break
            heads = [position for position, m in enumerate(collected)
                     if tokens.at(m) in HEADS or tokens.at(m) in BRANDS
                     or f"{tokens.at(m - 1)} {tokens.at(m)}" in BRANDS]
            if not heads:
                continue
            last = heads[-1]
            keep = collected[:last + 1]
            # "the doorway of the church", "la pared de la escuela": the place is after the link
            links = [p for p, m in enumerate(keep) if tokens.at(m) in {"de", "del", "of"}]
            if links and not any(p < links[-1] for p in heads):
                keep = keep[links[-1] + 1:]
                start = keep[0]
            # A name after the head: "el parque harbor", "the park on" stops at "on".
            tail = collected[last + 1:]
            if tail and tokens.at(tail[0]) in SUFFIXES:
                continue   # "park ave", "school rd": a street named after a landmark
            extra: list[int] = []
            for m in tail:
                word = tokens.at(m)
                if word in {"de", "del", "of"} or word in ARTICLES:
                    if extra and tokens.at(extra[-1]) not in {"de", "del", "of"} | ARTICLES:
                        break
                    extra.append(m)
                elif _name_word(word) and not _verb_like(word) and len(
                        [e for e in extra if tokens.at(e) not in {"de", "del", "of"} | ARTICLES]) < 2:
                    extra.append(m)
                else:
                    break
            while extra and tokens.at(extra[-1]) in {"de", "del", "of"} | ARTICLES:
                extra.pop()
            keep += extra
            # Words before the first head that are not part of the name ("the wall ... library")
            indexes = ([start] if tokens.at(start) in ARTICLES and start not in keep else []) + keep
            text = _landmark_text(tokens, indexes)
            if cue[-1] in {"al", "del"} and tokens.at(start) not in ARTICLES:
                text = f"el {text}"
            yield _Candidate("landmark", i, indexes[-1] + 1, text, ()), detail


def _detail_before(tokens: _Tokens, start: int) -> str | None:
    index = _cue_before(tokens, start, _INTERSECTION_CUES)
    index = start if index is None else index
    while tokens.at(index - 1) in {"the", "la", "el", "calle"}:
        index -= 1
    for cue, detail in _QUALIFIERS:
        if index - len(cue) >= 0 and tokens.matches(index - len(cue), cue):
            return detail
    return None


def _zipcode(tokens: _Tokens, used: set[int]) -> str | None:
    for index in range(tokens.n):
        match = _ZIP.match(tokens.at(index))
        if match and index not in used:
            return match.group(1)
    return None


def parse_place(text: str) -> Place | None:
    """The place a message names, or None. An address beats an intersection, an intersection a
    landmark, a landmark a street alone; the others still add what they know (a landmark named
    next to an intersection, the street a landmark is on, a ZIP code anywhere)."""
    tokens = _Tokens(text or "")
    if tokens.n == 0:
        return None
    addresses = list(_addresses(tokens))
    intersections = list(_intersections(tokens))
    landmarks = list(_landmarks(tokens))
    streets = list(_streets_alone(tokens))
    best_landmark = min(landmarks, key=lambda item: (item[0].start, -item[0].end)) if landmarks else None
    main = addresses[0] if addresses else intersections[0] if intersections else None
    if main is not None:
        used = set(range(main.start, main.end))
        other_landmark = None
        if best_landmark and not (used & set(range(best_landmark[0].start, best_landmark[0].end))):
            other_landmark = best_landmark[0].text
        return Place(main.kind, main.text, main.streets, main.house_number, main.unit, _zipcode(tokens, used),
                     _detail_before(tokens, main.start), other_landmark)
    street = streets[0] if streets else None
    if best_landmark:
        landmark, detail = best_landmark
        used = set(range(landmark.start, landmark.end))
        on_street = next((s for s in streets if s.start >= landmark.end and s.start - landmark.end <= 2), None)
        joiner = "on"
        if on_street is not None:
            between = range(landmark.end, on_street.start)
            joiner = next((detail for cue, detail in _QUALIFIERS if detail and len(cue) <= len(between)
                           and tokens.matches(landmark.end, cue)), "on")
        if on_street is None and tokens.at(landmark.end) in {"on", "en", "off", "at", "de"}:
            found = _street_at(tokens, landmark.end + 1 + (tokens.at(landmark.end + 1) in {"la", "el", "the"}),
                               bare_number=True)
            if found:
                on_street = _Candidate("street", found.start, found.end, found.street.display,
                                       (found.street.display,))
        if on_street:
            used |= set(range(on_street.start, on_street.end))
            return Place("landmark", f"{landmark.text} {joiner} {on_street.text}", on_street.streets,
                         zipcode=_zipcode(tokens, used), detail=detail)
        return Place("landmark", landmark.text, zipcode=_zipcode(tokens, used), detail=detail)
    if street:
        used = set(range(street.start, street.end))
        return Place("street", street.text, street.streets, zipcode=_zipcode(tokens, used),
                     detail=_detail_before(tokens, street.start))
    return None


# -- service area ------------------------------------------------------------------------------

Ring = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class AreaPolygon:
    """One polygon of the service-area map: an outer ring and its holes, as (lon, lat) points
    (GeoJSON order)."""

    outer: Ring
    holes: tuple[Ring, ...] = ()

    def contains(self, lon: float, lat: float) -> bool:
        return _in_ring(lon, lat, self.outer) and not any(_in_ring(lon, lat, hole) for hole in self.holes)


def _in_ring(x: float, y: float, ring: Ring) -> bool:
    """Ray casting: a ray from the point crosses the ring's edges an odd number of times
    exactly when the point is inside."""
    inside = False
    count = len(ring)
    for index in range(count):
        x1, y1 = ring[index]
        x2, y2 = ring[(index + 1) % count]
        if (y1 > y) != (y2 > y):
            crossing = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < crossing:
                inside = not inside
    return inside


def _ring(where: str, value: Any) -> Ring:
    if not isinstance(value, list) or len(value) < 4:
        raise ProfileError(f"{where}: a ring needs at least 4 [lon, lat] positions")
    points: list[tuple[float, float]] = []
    for position in value:
        if not (isinstance(position, list) and len(position) >= 2
                and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in position[:2])):
            raise ProfileError(f"{where}: {position!r} is not a [lon, lat] position")
        points.append((float(position[0]), float(position[1])))
    return tuple(points)


def _polygon(where: str, rings: Any) -> AreaPolygon:
    if not isinstance(rings, list) or not rings:
        raise ProfileError(f"{where}: a Polygon needs at least one ring")
    return AreaPolygon(_ring(where, rings[0]), tuple(_ring(where, ring) for ring in rings[1:]))


def polygons_from_geojson(data: Any, where: str = "GeoJSON") -> tuple[AreaPolygon, ...]:
    """Polygon, MultiPolygon, Feature, FeatureCollection or GeometryCollection of them."""
    if not isinstance(data, Mapping):
        raise ProfileError(f"{where}: not a GeoJSON object")
    kind = data.get("type")
    if kind == "Polygon":
        return (_polygon(where, data.get("coordinates")),)
    if kind == "MultiPolygon":
        parts = data.get("coordinates")
        if not isinstance(parts, list) or not parts:
            raise ProfileError(f"{where}: a MultiPolygon needs at least one polygon")
        return tuple(_polygon(where, part) for part in parts)
    if kind == "Feature":
        return polygons_from_geojson(data.get("geometry"), where)
    if kind == "FeatureCollection":
        return tuple(p for feature in data.get("features") or [] for p in polygons_from_geojson(feature, where))
    if kind == "GeometryCollection":
        return tuple(p for geometry in data.get("geometries") or []
                     for p in polygons_from_geojson(geometry, where))
    raise ProfileError(f"{where}: {kind!r} is not an area (use Polygon or MultiPolygon)")


def load_geojson(path: Path) -> tuple[AreaPolygon, ...]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"service_area.geojson: cannot read {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise ProfileError(f"service_area.geojson: {path} is not valid JSON: {exc}") from exc
    polygons = polygons_from_geojson(data, f"service_area.geojson ({path})")
    if not polygons:
        raise ProfileError(f"service_area.geojson ({path}) holds no Polygon or MultiPolygon")
    return polygons


@dataclass(frozen=True)
class AreaVerdict:
    """Is the place the department's? `inside` is None when nothing configured decides it
    (staff check); `agency` is set only when the place is outside and another agency covers it;
    `reason` says why, for staff."""

    inside: bool | None
    agency: OtherAgency | None = None
    reason: str = ""


_DEPARTMENT = ""   # owner key of the department itself


class ServiceArea:
    """The department's ZIP codes, streets and map, and the other agencies' streets and ZIP codes.
    Evidence is only ever used one way: a street or ZIP must be *listed* to count, so an
    unlisted street is unknown, never "outside"."""

    def __init__(self, *, zipcodes: Iterable[str] = (), streets: Iterable[str] = (),
                 polygons: Iterable[AreaPolygon] = (), agencies: Iterable[OtherAgency] = ()) -> None:
        self.zipcodes = frozenset(zipcodes)
        self.polygons = tuple(polygons)
        self.agencies = tuple(agencies)
        self._streets: dict[str, list[tuple[str | None, str]]] = {}
        for name in streets:
            self._add_street(name, _DEPARTMENT)
        for agency in self.agencies:
            for name in agency.streets:
                self._add_street(name, agency.name)

    @classmethod
    def from_profile(cls, profile: DepartmentProfile) -> "ServiceArea":
        """Reads the GeoJSON file now (not at import): a bad map fails when the area is built."""
        config = profile.service_area
        polygons = load_geojson(config.geojson) if config and config.geojson else ()
        return cls(zipcodes=config.zipcodes if config else (), streets=config.streets if config else (),
                   polygons=polygons, agencies=profile.other_agencies)

    def _add_street(self, name: str, owner: str) -> None:
        street = street_from_name(name)
        if street is not None:
            self._streets.setdefault(street.key, []).append((street.suffix, owner))

    def _agency(self, name: str) -> OtherAgency | None:
        return next((agency for agency in self.agencies if agency.name == name), None)

    def street_owners(self, name: str) -> set[str]:
        """Who lists this street: "" for the department, else agency names. "Main" (no type)
        matches every listed Main; "Main Ave" does not match a listed "Main St"."""
        street = street_from_name(name)
        if street is None:
            return set()
        entries = self._streets.get(street.key, [])
        return {owner for suffix, owner in entries
                if street.suffix is None or suffix is None or suffix == street.suffix}

    def contains_point(self, lat: float, lon: float) -> bool | None:
        if not self.polygons:
            return None
        return any(polygon.contains(lon, lat) for polygon in self.polygons)

    def _zip_verdict(self, zipcode: str | None) -> AreaVerdict:
        if not zipcode:
            return AreaVerdict(None)
        if zipcode in self.zipcodes:
            return AreaVerdict(True, None, f"ZIP {zipcode} is in the service area")
        agency = next((a for a in self.agencies if zipcode in a.zipcodes), None)
        if agency:
            return AreaVerdict(False, agency, f"ZIP {zipcode} is covered by {agency.name}")
        if self.zipcodes:
            return AreaVerdict(False, None, f"ZIP {zipcode} is not one of the department's ZIP codes")
        return AreaVerdict(None)

    def _street_verdict(self, streets: Sequence[str]) -> AreaVerdict:
        owners = [(name, self.street_owners(name)) for name in streets]
        ours = [name for name, who in owners if who == {_DEPARTMENT}]
        if ours:
            return AreaVerdict(True, None, f"{ours[0]} is in the service area")
        if not owners:
            return AreaVerdict(None, None, "no street or ZIP code to check")
        unlisted = [name for name, who in owners if not who]
        if unlisted:
            return AreaVerdict(None, None, f"{', '.join(unlisted)}: on no street list")
        shared = [name for name, who in owners if _DEPARTMENT in who]
        if shared:
            return AreaVerdict(None, None, f"{', '.join(shared)}: listed for the department and another agency")
        common = set.intersection(*(who for _, who in owners))
        if len(common) == 1:
            agency = self._agency(next(iter(common)))
            return AreaVerdict(False, agency, f"{' & '.join(streets)}: covered by {agency.name if agency else ''}")
        every = sorted(set.union(*(who for _, who in owners)))
        return AreaVerdict(False, None, f"{' & '.join(streets)}: covered by {' or '.join(every)}")

    def check(self, place: Place) -> AreaVerdict:
        """A map answer (when the place has coordinates and a map is configured) decides alone.
        Otherwise ZIP code and streets each give a verdict; when they disagree the answer is
        unknown, because only a wrong "outside" would turn a resident away."""
        if place.lat is not None and place.lon is not None and self.polygons:
            if self.contains_point(place.lat, place.lon):
                return AreaVerdict(True, None, "the location is inside the service-area map")
            agency = self._zip_verdict(place.zipcode).agency
            if agency is None and place.streets:
                agency = self._street_verdict(place.streets).agency
            return AreaVerdict(False, agency, "the location is outside the service-area map")
        by_zip = self._zip_verdict(place.zipcode)
        by_street = self._street_verdict(place.streets)
        if by_zip.inside is None:
            return by_street
        if by_street.inside is None:
            return by_zip
        if by_street.inside == by_zip.inside:
            return by_zip if by_zip.agency or not by_street.agency else by_street
        return AreaVerdict(None, None, f"{by_zip.reason}, but {by_street.reason}")

    def agency_for_topic(self, text: str) -> OtherAgency | None:
        """The agency whose topics the message mentions ("pothole" -> public works), if any."""
        folded = fold_in_place(text)
        for agency in self.agencies:
            for topic in agency.topics:
                if re.search(rf"\b{re.escape(fold_in_place(topic))}\b", folded):
                    return agency
        return None

"""Deterministic emergency / crisis screen, run on every inbound message before any NLU.

Why rules and not the NLU model: this check must work in every conversation state, with Rasa
down, and behave the same way tomorrow as today; a reviewer must be able to read exactly what
is caught. It is biased toward catching too much (a needless 911/988 reply costs little, a
missed one can cost a life) but keeps ordinary questions ("what is the non emergency number",
"active shooter preparedness class", "my car was broken into last night") out of the 911 reply.

How a message is read:

1. ``normalize``: NFKC (fullwidth letters), casefold, accents, zero-width/format and control
   characters removed, quotes straightened, apostrophes dropped ("he's" -> "hes"), digits inside
   words read as letters ("s0meone"), punctuation other than sentence ends turned into spaces,
   runs of 3+ repeated letters shortened to the spelling the rules know ("helppp" -> "help",
   "shooooting" -> "shooting"), SMS shorthand and common typos mapped to one spelling ("pls" ->
   "please", "somone" -> "someone", "gonna" -> "going to", "ambulence" -> "ambulance").
2. The text is cut into clauses (sentence ends, line breaks, "but", "pero", "oh wait"), because
   residents put a past report and a present danger in one message, and a veto ("last night")
   must only silence the clause it is in. A message with line breaks is also read with them as
   plain spaces, since some residents press enter mid-sentence; either reading may flag it.
3. Rules are trigger patterns with an id, grouped by language and kind. Every rule runs on
   every message whatever its language (residents mix languages). A rule may name veto groups
   ("safe context": past tense, how-to questions, program names, figurative speech, objects that
   are not people...): the match is dropped when the same clause matches one of them. Past and
   how-to vetoes are themselves overridden by present-time words ("right now", "still here",
   "ahorita"). A rule without vetoes fires on its own.
4. Crisis rules are checked first: crisis wins over emergency (the crisis reply includes 911).

The verdict carries the kind and the id of the rule, never any of the message's text.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, replace
from enum import Enum
from itertools import product
from pathlib import Path
from typing import Iterable, Protocol


class SafetyKind(str, Enum):
    EMERGENCY = "emergency"
    CRISIS = "crisis"


class SafetyTier(str, Enum):
    CLEAR = "clear"  # the 911/988 answer replaces everything, staff are flagged
    POSSIBLE = "possible"  # the normal answer plus one 911/988 line, a safety event staff see


@dataclass(frozen=True)
class SafetyVerdict:
    kind: SafetyKind | None  # None = safe
    rule: str | None  # id of the matching rule (from RULE_IDS) or "signal", never the message text
    tier: SafetyTier = SafetyTier.CLEAR
    about_other: bool = False  # a crisis of someone else's: 988 guidance for helping them
    score: float | None = None  # the learned signal's danger probability, when it decided

    @property
    def flagged(self) -> bool:
        """Clear danger: the safety answer takes the conversation over."""
        return self.kind is not None and self.tier is SafetyTier.CLEAR

    @property
    def possible(self) -> bool:
        return self.kind is not None and self.tier is SafetyTier.POSSIBLE

    @property
    def event(self) -> str | None:
        """What the transcript records: "emergency", "crisis", "possible_emergency"..."""
        if self.kind is None:
            return None
        return self.kind.value if self.tier is SafetyTier.CLEAR else f"possible_{self.kind.value}"


SAFE = SafetyVerdict(kind=None, rule=None)


@dataclass(frozen=True)
class DangerScore:
    """The learned signal's probabilities that a message describes an emergency now, or a crisis."""
    emergency: float
    crisis: float

    @property
    def danger(self) -> float:
        return self.emergency + self.crisis

    @property
    def kind(self) -> SafetyKind:
        return SafetyKind.CRISIS if self.crisis >= self.emergency else SafetyKind.EMERGENCY


# How sure the signal must be of the other kind to change a rule's kind (emergency <-> crisis).
KIND_SWITCH = 0.6
# The signal decides alone only from this many words: shorter messages are mostly answers to a
# form's question ("just me", "2 adults"), and short danger ("help me", "fire!") is the rules'.
MIN_SIGNAL_WORDS = 3


class DangerSignal(Protocol):
    def score(self, text: str) -> DangerScore: ...


@dataclass(frozen=True)
class Thresholds:
    """Chosen on the evaluation sets' dev split (`make calibrate-safety`, data/safety/thresholds.json):
    at or above `clear` the signal alone takes over (high precision); at or above `possible` it adds
    the one-line 911/988 reminder to the normal answer (high recall)."""
    clear: float = 0.9
    possible: float = 0.5
    # A rule that fires on a message the signal finds plainly safe ("the fire dept already put
    # out the dumpster fire...") gives the possible tier: the 911/988 line, not the takeover.
    rule_veto: float = 0.0
    # Below this the signal is sure enough that a rule's words were figurative or told of a past,
    # handled event ("mi jefe me va a ahorcar si llego tarde"): a normal answer, no safety line.
    # Never applied to a message too short for the signal to read (MIN_SIGNAL_WORDS).
    rule_silence: float = 0.0

    @classmethod
    def load(cls, path: Path) -> "Thresholds":
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            return cls(clear=float(stored["clear"]), possible=float(stored["possible"]),
                       rule_veto=float(stored.get("rule_veto", 0.0)),
                       rule_silence=float(stored.get("rule_silence", 0.0)))
        except (OSError, ValueError, KeyError, TypeError):
            return cls()


@dataclass(frozen=True)
class Rule:
    """One trigger: fires when ``pattern`` matches a clause not silenced by its ``vetoes``."""

    id: str
    kind: SafetyKind
    pattern: re.Pattern[str]
    vetoes: tuple[str, ...] = ()


# -- shared vocabulary (normalised spellings: no accents, no apostrophes) -------------------

_SOMEONE = r"(?:someone|somebody|someones|somebodys|some one|some guy|some man|some dude)"
_PERSON = (r"(?:man|men|guy|guys|dude|dudes|woman|women|lady|ladies|person|people|stranger|strangers|"
           r"intruder|intruders|burglar|burglars|thief|thieves|robber|robbers|kid|kids|boy|boys|girl|girls|"
           r"teen|teens|teenager|teenagers|driver|gunman|shooter|suspect|old man|homeless man)")
_KIN = (r"(?:wife|husband|mom|mother|mama|mum|dad|father|papa|son|daughter|kid|kids|child|children|baby|"
        r"girlfriend|boyfriend|gf|bf|sister|brother|sis|bro|friend|neighbor|neighbors|grandma|grandpa|"
        r"grandmother|grandfather|granny|family|partner|roommate|ex|cousin|aunt|uncle|stepdad|stepmom|"
        r"stepfather|stepmother|stepson|stepdaughter|niece|nephew|fiance|fiancee|toddler|infant|newborn|"
        r"parents|wifey|spouse|grandson|granddaughter|coworker)")
_ANY_PERSON = rf"(?:(?:my|his|her|their|our|the|a|an|this|that|some|two|three|\d+) (?:\w+ )?(?:{_PERSON}|{_KIN}))"
_SUBJECT = rf"(?:{_SOMEONE}|{_ANY_PERSON}|he|she|they|hes|shes|theyre|theres|there is|there are|{_PERSON})"
_OBJECT = (rf"(?:me|us|her|him|them|{_ANY_PERSON}|someone|somebody|people|everyone|everybody|each other|"
           rf"another (?:\w+ )?{_PERSON})")
_AUX = (r"(?:(?:is|are|s|re|was|were|just|still|now|currently|and|been|has been|have been|keeps|started|starts|"
        r"like) )*")
_GUN = (r"(?:gun|guns|pistol|pistols|handgun|handguns|rifle|rifles|shotgun|shotguns|firearm|firearms|ar 15|ar15|"
        r"ak 47|ak47|ak|glock|revolver|uzi|assault rifle)")
_BLADE = r"(?:knife|knives|machete|machetes|blade|sword|box cutter|ice pick)"
_BLUNT = r"(?:bat|baseball bat|crowbar|axe|tire iron)"
_WEAPON = rf"(?:(?:\w+ )?{_GUN}|(?:\w+ )?{_BLADE}|{_BLUNT}|weapon|weapons)"
_ES_PERSONA = (r"(?:alguien|hombre|hombres|senor|senores|tipo|tipos|persona|personas|desconocid[oa]s?|"
               r"extran[oa]s?|ladron|ladrones|intruso|intrusos|muchacho|muchachos|chavo|chavos|sujeto|sujetos|"
               r"vato|vatos|mujer|cholo|cholos)")
_ES_FAMILIA = (r"(?:hij[oa]s?|nin[oa]s?|bebe|bebes|herman[oa]s?|mama|papa|madre|padre|abuel[oa]s?|espos[oa]|"
               r"novi[oa]|pareja|ti[oa]|prim[oa]|sobrin[oa]|niet[oa]|amig[oa]|vecin[oa]|chamac[oa]|"
               r"muchach[oa]|hijit[oa]|nene|nena)")
_ES_LUGAR = (r"(?:casa|cocina|cuarto|recamara|patio|apartamento|apartament|departamento|depa|garaje|cochera|sala|"
             r"bano|sotano|jardin|hogar|puerta|ventana|ventanas|edificio|negocio|tienda|traila|troca)")
_PLACE = (r"(?:house|home|apartment|apt|kitchen|room|bedroom|backyard|back yard|yard|garage|basement|attic|closet|"
          r"bathroom|living room|hallway|porch|place|car|truck|trailer|front yard|shed|office|store)")


# -- safe context: veto groups ------------------------------------------------------------

_VETO_SOURCES: dict[str, tuple[str, ...]] = {
    # It already happened and is over: a non-emergency report.
    "past": (
        r"\blast (?:night|week|month|year|time|weekend|summer|winter|spring|fall|monday|tuesday|wednesday|"
        r"thursday|friday|saturday|sunday)\b",
        r"\byesterday\b",
        r"\b(?:\d+|a|an|one|two|three|four|five|six|few|couple|couple of|several|many|some) (?:\w+ )?"
        r"(?:days?|weeks?|months?|years?|yrs?) ago\b",
        r"\bago\b",
        r"\balready (?:happened|over|gone|left|reported|filed)\b",
        r"\b(?:that|which|it) happened\b",
        r"\b(?:no ?one|nobody|noone) (?:was |got |is |were )?(?:hurt|injured|shot)\b",
        r"\b(?:no injuries|no injury|minor (?:accident|crash|collision)|fender bender|all good now|"
        r"(?:everyone|everybody) (?:is|s|was) (?:ok|okay|fine|safe)|(?:hes|shes|theyre|he is|she is|they are|"
        r"we are|were|im|i am|everyone is) (?:ok|okay|fine|safe|alright) now)\b",
        r"\b(?:no hubo heridos|todos estan bien|ya estamos bien|ya esta bien)\b",
        r"\bthe other (?:day|night|week)\b",
        r"\bearlier this (?:week|month|year)\b",
        r"\b(?:years|months|weeks) back\b",
        r"\bfor (?:\d+|many|several|a few|two|three|four|five|ten) (?:years|months|yrs)\b",
        r"\bstatus of (?:my|the) case\b",
        r"\b(?:anoche|ayer|antier|anteayer|antenoche)\b",
        r"\b(?:la semana pasada|el mes pasado|el ano pasado|el fin de semana pasado|la otra semana|el otro dia)\b",
        r"\b(?:el|la) (?:lunes|martes|miercoles|jueves|viernes|sabado|domingo|noche) pasad[oa]\b",
        r"\bhace (?:un|una|unos|unas|dos|tres|cuatro|cinco|varios|varias|\d+|mucho|muchos|muchas) "
        r"(?:\w+ )?(?:dias?|semanas?|mes|meses|anos?|tiempo)\b",
        r"\bya (?:paso|todo esta tranquilo|esta tranquilo|se fue|se fueron|termino)\b",
        r"\bnadie (?:salio|resulto|esta|quedo) herido\b",
        # handled: the responders came, it is out, they were found
        r"\b(?:already|just) (?:put (?:it |the fire )?out|came (?:and went|and left)?|been here|left|handled it|"
        r"took (?:him|her|them) to the hospital)\b",
        r"\b(?:fire (?:dept|department)|firefighters|paramedics|the ambulance|officers|police) "
        r"(?:already|have already|came and|were here|put it out)\b",
        r"\b(?:we|they) found (?:him|her|them)\b|\bback in (?:january|february|march|april|may|june|july|august|"
        r"september|october|november|december|the spring|the summer|the fall|the winter)\b",
        r"\bya (?:lo|la|los) apagaron\b|\bya se (?:acabo|apago|lo llevaron|la llevaron)\b|\bya (?:lo|la) encontramos\b",
        r"\bya (?:le |les )?(?:llame|hable|marque) al 911\b|\bya (?:vino|vinieron|llego|llegaron) (?:la|el|los|las) "
        r"(?:policia|bomberos|ambulancia|paramedicos|patrulla)\b|\bla ambulancia se (?:lo|la) llevo\b",
    ),
    # Asking what to do in general, or whether something is allowed: an FAQ, not a report.
    "howto": (
        r"\bwhat (?:to do|should (?:i|we|you|people|one) do|do (?:i|we|you) do|happens|would you do|can i do|"
        r"are we supposed to do|is the procedure) (?:if|when|in case|during|in an?|about)\b",
        r"\bhow (?:to|do|can|should|would) (?:i |we |you |one |people |parents |residents )?"
        r"(?:report|get|find|press|file|request|dispose|talk|prepare|protect|survive|respond|recognize|spot|"
        r"know|tell|react|deal|stay safe|be safe|teach|prevent|avoid|recognise|identify)\b",
        r"\b(?:keep|keeping|prevent|preventing|protect|protecting) (?:\w+ ){0,3}from (?:getting|being)\b",
        r"\b(?:in case of|in the event of|in the event that|if you ever|if i ever|if someone ever|"
        r"if there is ever|if theres ever|if ever)\b",
        r"\b(?:is it|its) (?:legal|illegal|allowed|against the law)\b",
        r"\b(?:can|may|could) (?:i|we) (?:have|make|build|light|own|carry|buy) (?:a|an)\b",
        r"\bwhen (?:should|do|can|to) (?:i |we |you )?call\b",
        r"\b(?:allowed|legal|permitted|permit) to (?:have|make|build|light|own|carry|buy|burn)\b",
        r"\bque (?:hago|hacer|debo hacer|debemos hacer|puedo hacer|se hace|hacemos|hace uno) (?:si|en caso|cuando)\b",
        r"\bque hacer en\b",
        r"\ben caso de\b",
        r"\bcomo (?:reporto|denuncio|reportar|denunciar|pongo|saco|consigo|puedo (?:reportar|denunciar))\b",
        r"\b(?:si alguna vez|es legal|esta permitido)\b",
    ),
    # "If I'm hiding and can't talk, can I text 911?": a what-if, not a report.
    "hypothetical": (
        r"\bif (?:im|i am|i was|i were|you are|youre|ur|someone is|somebody is|estoy|estuviera)\b",
    ),
    # Names of classes, programs and resources that contain alarming words. Only words that name
    # a program: a present danger may well be reported from a meeting or a practice.
    "program": (
        r"\b(?:class|classes|training|trainings|workshop|workshops|seminar|seminars|course|courses|program|"
        r"programs|academy|drill|drills|preparedness|awareness|prevention|presentation|presentations|lecture|"
        r"lectures|webinar|certification|resources|hotline|support groups?|simulation|safety tips)\b",
        r"\b(?:curso|cursos|clase|clases|taller|talleres|capacitacion|entrenamiento|programa|programas|platica|"
        r"platicas|charla|charlas|prevencion|simulacro|recursos|academia|seminario)\b",
    ),
    # Asking for an officer at an event ("send an officer to speak at our HOA meeting").
    "event": (
        r"\b(?:meeting|meetings|hoa|career day|block party|event|events|speak|speaker|talk at|talk to (?:our|the)|"
        r"presentation|school visit|visit (?:our|the)|fair|parade|festival|reunion|junta|evento|platica|feria|"
        r"desfile|escuela)\b",
    ),
    # Figures of speech built from alarming words.
    "figurative": (
        r"\b(?:die|dying|died|dead|death) (?:of|from) (?:laughter|laughing|embarrassment|boredom|shame|cringe|"
        r"cuteness|hunger|thirst|curiosity|jealousy|envy|excitement|suspense|heat|cold)\b",
        r"\bdying to\b",
        r"\b(?:kill|killing|killed) (?:it|time|the game|for)\b",
        r"\b(?:traffic|work|job|heat|weather|this|these|that|commute|shoes|feet|foot|back|head|neck|knees?|"
        r"stomach|tooth|teeth|homework|school|boss|prices?|rent|bills?|suspense|waiting|wait|hangover|"
        r"allergies|class|line|music|noise|exam|test|finals|taxes|cold|kids|baby|puppy) (?:is |are |s |re )?"
        r"(?:really |literally |totally |so )?(?:killing|hurting) me\b",
        r"\b(?:you|u|youre|ur|you are|lol|lmao|haha) (?:are |re )?(?:killing|killin) me\b",
        r"\b(?:almost|nearly|practically|about to|going to|gonna) (?:gave|give|giving|had|have|having) "
        r"(?:me |us |him |her )?a heart attack\b",
        r"\b(?:gave|give|giving) (?:me|us|him|her) a heart attack\b",
        r"\brather die than\b",
        r"\bdrown(?:ing|ed)? in (?:work|paperwork|debt|bills|homework|emails|tears|questions|laundry)\b",
        r"\b(?:water gun|water pistol|squirt gun|nerf|airsoft|paintball|bb gun|pellet gun|toy gun|toy knife|"
        r"pistola de agua|pistola de juguete|pistolita de agua|arma de juguete|cuchillo de juguete)\b",
        r"\b(?:im|i am) (?:literally |so |actually )?(?:dying|dead)\b.{0,20}\b(?:lol|lmao|lmfao|haha\w*|rofl|"
        r"jaja\w*|omg|xd)\b|\b(?:lol|lmao|lmfao|haha\w*|rofl|jaja\w*|xd) (?:im|i am) (?:literally |so )?"
        r"(?:dying|dead)\b|\b(?:im|i am) (?:so |literally )?dead (?:if|when|lol|lmao)\b",
        r"\b(?:mom|mother|mum|dad|father|mama|papa|parents|boss|teacher|coach|grandma|grandpa|sister|brother|"
        r"manager|principal|abuela|jefe|maestra|maestro) (?:is |s |will |are |re )?(?:going to |will |gonna )?"
        r"(?:literally )?kill (?:me|us)\b.{0,40}\b(?:lol|lmao|haha\w*|jk|if|when|for|because|cuz)\b",
        r"\b(?:bath|photo|f|the|da|cherry|calorie|stink|glitter|seed|truth|time|dropped the|drop the|drop a|"
        r"dropped a) bombs?\b|\bbomb (?:ass|pop|pops|diggity|dot|shot|shots)\b|\bbombed (?:my|the|a|that)\b",
        r"\b(?:im|i am|youre|you are|were|team|we are) on fire\b",
        r"\bon fire (?:today|tonight|this season|lately)\b",
        r"\bmori(?:r|rme|rse|rnos)? de (?:la |el )?(?:risa|hambre|sed|sueno|frio|calor|cansancio|aburrimiento|"
        r"verguenza|pena|ganas|envidia|amor|nervios|celos|curiosidad|flojera|antojo|emocion|ternura|gusto|"
        r"coraje)\b",
        r"\b(?:muero|muere|muera|muerto|muerta|muertos|muertas|muriendo|mori|matar|mato|matando) de "
        r"(?:la |el )?(?:risa|hambre|sed|sueno|frio|calor|cansancio|aburrimiento|verguenza|pena|ganas|"
        r"envidia|amor|nervios|celos|curiosidad|flojera|antojo|emocion|ternura|gusto)\b",
        r"\bcort(?:ar|arme|o|e|ando|aron) (?:el |los |las |la |mi |mis )?(?:pelo|cabello|unas|barba|fleco|"
        r"puntas|bigote|clases|clase|cesped|pasto|arbol|rama|ramas|carne|cebolla|pan|papel|cuenta|servicio|"
        r"luz|agua|telefono|cable)\b",
        r"\b(?:trafico|trabajo|calor|frio|tarea|escuela|jefe|hambre|sueno|espera|cansancio|cabeza|espalda|"
        r"pies|muela|muelas|estomago|zapatos|renta|precios?|curiosidad|suspenso|cruda|examen|ruido) "
        r"(?:me |nos )?(?:esta|estan) matando\b",
        r"\bme (?:esta|estan) matando (?:de|el|la|los) (?:hambre|risa|sueno|calor|frio|cansancio|aburrimiento|"
        r"curiosidad|nervios|dolor|cabeza|espalda|pies)\b",
    ),
    # The alarming verb's subject is a thing, not a person ("my phone is dying").
    "object": (
        r"\b(?:traffic|line|lines|car|cars|bus|train|queue|case|investigation|app|website|site|page|phone|"
        r"computer|laptop|system|link|form|email|emails|clock|elevator|tv|battery|plant|plants|flowers|tree|"
        r"grass|lawn|officer|detective|printer|wifi|internet|server|portal|game|screen|mouse|keyboard|"
        r"engine) (?:\w+ )?(?:is |are |s |re |has |have |"
        r"been |still |keeps )*(?:not|isnt|arent|wasnt|stopped|dont|doesnt|wont|never|dying|dead|died)\b",
        r"\b(?:responding|respond|answering|answer|replying) (?:to )?(?:my|our|the|any) (?:\w+ )?"
        r"(?:emails?|calls?|messages?|texts?|requests?|questions?|complaints?)\b",
        r"\b(?:celular|telefono|cel|bateria|planta|plantas|carro|coche|computadora|pagina|sistema|trafico|fila|"
        r"oficial|detective|internet|tele|television) (?:\w+ )?(?:se |no |ya )*(?:esta|estan|me|nos)? ?"
        r"(?:muriendo|responde|contesta|avanza|se mueve|mueve)\b",
        r"\b(?:responde|contesta) (?:a )?(?:mis|los|mi|el|las) (?:mensajes?|correos?|llamadas?|textos?)\b",
        r"\b(?:muriendo|murio|muere) (?:el|la|mi) (?:celular|telefono|cel|bateria|planta|plantas|carro)\b",
    ),
    # Smoke and flames that belong where they are.
    "harmless_fire": (
        r"\b(?:chimney|fireplace|bbq|barbecue|barbeque|grill|grilling|smoker|vape|vaping|cigarettes?|cigars?|"
        r"weed|hookah|incense|candles?|bonfire|fire pit|firepit|fireworks|controlled burn|smoking)\b",
        r"\b(?:chimenea|asador|carne asada|parrilla|cigarros?|fogata|cohetes|quemando basura)\b",
    ),
    # A parent's rules, not a captor's ("my mom won't let me go to the party").
    "outing": (
        r"\b(?:party|parties|fiesta|fiestas|concert|concierto|sleepover|pijamada|prom|baile|movies|cine|mall|"
        r"grounded|castigad[oa]|curfew|homework|tarea)\b",
    ),
    # A tip about who did it, not a crime under way ("se quien esta robando").
    "tip": (
        r"\b(?:se quien|se quienes|sabe quien|saben quien|sabemos quien|i know who|we know who|know who is|"
        r"know who s|know who are|who has been|who have been|quien ha estado|quienes han estado|tip|pista|"
        r"anonim[oa]|anonymous)\b",
    ),
    # Lawful ownership questions ("i have a gun permit question", "a knife collection").
    "lawful_weapon": (
        r"\b(?:buyback|buy back|permit|permits|license|licence|licensed|registration|register|registered|"
        r"gun safe|gun lock|gun locks|trigger lock|safely|shooting range|dispose|disposal|turn in|turn it in|"
        r"surrender|ammo|ammunition|hunting|hunter|collection|collector|concealed carry|ccw|legal|legally|"
        r"birthday|gift|sharpen|sharpening|kitchen knife|knife set|inherited|heirloom|for sale|sell|selling|"
        r"purchase|buy an?|bought an?)\b",
        r"\b(?:permiso|licencia|registro|registrar|coleccion|caceria|vender|comprar|compre una?|legal|regalo|"
        r"de cocina)\b",
    ),
    # Online, not in person ("someone has been following me on instagram").
    "online": (
        r"\b(?:instagram|insta|ig|facebook|fb|twitter|tiktok|snapchat|snap|online|social media|youtube|twitch|"
        r"reddit|discord|whatsapp|my page|my posts|followers|redes sociales|dms?|spotify)\b",
    ),
    # Scams and hoaxes that borrow the words of a crime ("secuestro virtual").
    "scam": (
        r"\b(?:virtual|scam|scams|scammer|scammers|estafa|estafas|estafador|estafadores|extorsion|fraude|"
        r"llamada falsa|fake|hoax|prank)\b",
    ),
    # Said not to be an emergency.
    "negated": (
        r"\b(?:not|isnt|is not|no|non|nothing|aint) (?:an? |una )?(?:real |actual )?(?:emergency|emergencia|"
        r"urgent)\b",
        r"\bno es (?:una )?(?:emergencia|urgente)\b",
        r"\bnon ?emergency\b",
    ),
    # Someone named Socorro, or roadside assistance ("auxilio vial").
    "name": (
        r"\b(?:dona|sra|senora|tia|abuela|amiga|prima|hermana|mama|llama|santa|virgen|maria|perpetuo|se llama) "
        r"(?:del )?socorro\b",
        r"\b(?:auxilio|socorro) (?:vial|mecanico|carretero)\b",
        r"\bel socorro\b",
    ),
}

# Present-time words override the "past" and "howto" vetoes: it is happening now.
_PRESENT = re.compile(
    r"\b(?:right now|just now|as we speak|currently|at the moment|at this moment|this minute|hurry|asap|"
    r"still (?:here|there|inside|in|around|outside|at|on|nearby|going|happening|hitting|beating|there|"
    r"in it|in the|in my)|is happening|are happening|happening now|in progress|"
    r"ahorita|ahorita mismo|ya mero|ahora mismo|en este momento|en estos momentos|todavia (?:esta|estan|sigue|siguen)|sigue (?:aqui|ahi|afuera|"
    r"adentro|en)|siguen (?:aqui|ahi|afuera|adentro|en)|rapido|urgente)\b"
)
_OVERRIDABLE = frozenset({"past", "howto"})
# A hoax reads as a hoax anywhere in the message ("...kidnapped my son, but it was a scam").
_MESSAGE_WIDE = frozenset({"scam"})

VETOES: dict[str, tuple[re.Pattern[str], ...]] = {
    name: tuple(re.compile(p) for p in patterns) for name, patterns in _VETO_SOURCES.items()
}


# -- rules: (name, pattern, veto groups) ---------------------------------------------------

_PH = ("past", "howto")
_PHP = ("past", "howto", "program")

_EN_CRISIS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("kill_myself", r"\b(?:kill|killing|killed|unalive|unaliving|off|offing|hang|hanging|shoot|shooting|"
                    r"poison|poisoning|drown|drowning|suffocate|suffocating|overdose|overdosing|od|starve|"
                    r"starving|stab|stabbing) (?:my ?self|meself)\b(?! in the foot| laughing)", ()),
    ("kms", r"\b(?:kms|kmsf|unalive)\b", ()),
    ("plan_overdose", r"\b(?:going to|want to|will|plan to|planning to|about to|ready to|thinking about) "
                      r"(?:just )?(?:overdose|od)\b(?! on (?:sugar|candy|caffeine|coffee|chocolate))|"
                      r"\bthinking about (?:dying|killing myself|ending it|ending my life)\b", ()),
    ("self_harm", r"\b(?:going to|want to|will|might|keep|kept|been|started|start|urge to|urges to|thinking "
                  r"(?:about|of)|thoughts of|plan to|planning to|trying not to|about to|cant stop|could|"
                  r"relapsed|relapse|again|ready to|need to) (?:\w+ )?(?:cut|cutting|hurt|hurting|harm|harming|"
                  r"burn|burning|punish|punishing)(?: my ?self)\b", ()),
    ("self_harm_habit", r"\b(?:cutting|harming|burning|hurting) (?:my ?self)\b|\bcutting again\b|"
                        r"\b(?:started|start|been|keep|relapsed|back to|went back to|urge to|urges to|want to|going "
                        r"to) (?:\w+ )?cutting\b(?! (?:class|classes|school|hair|the|my|coupons|grass|lawn|back|down|"
                        r"costs|corners|wood|paper|onions|vegetables|out|off|in|through|ties|it|them|him|her|carbs|"
                        r"sugar|work|practice|budget|meat)\b)|\b(?:hurt|cut|burned|burnt|harmed) myself\b.{0,40}"
                        r"\b(?:again|do it again|want to|going to)\b", ()),
    ("self_harm_named", r"\b(?:self ?harm|self ?harming|self ?injury|self ?injuring)\b", ("program",)),
    ("third_person", r"\b(?:kill|killing|unalive|hang|hanging|shoot|shooting|off|end|ending|overdose) "
                     r"(?:him|her|them|their)sel(?:f|ves)\b", ()),
    ("third_person_harm", r"\b(?:wants? to|going to|threatening to|threatened to|talking about|keeps saying|"
                          r"says (?:hes|shes|theyre|he is|she is|they are|he will|she will|he might|she might)|"
                          r"thinking about|trying to|tried to|might|will|planning to) (?:\w+ )?(?:hurt|hurting|"
                          r"harm|harming|cut|cutting) (?:him|her|them)sel(?:f|ves)\b", ()),
    ("suicidal", r"\b(?:suicidal|suicide (?:note|notes|plan|attempt|letter|thoughts?|watch|pact)|"
                 r"(?:commit|committing|attempt|attempted|attempting|thinking (?:about|of)|thought (?:about|of)|"
                 r"thoughts of|contemplating|considering|consider|plan|planning|want|wanna) (?:\w+ )?suicide)\b",
     ("program",)),
    ("end_my_life", r"\b(?:end|ending|take|taking|took) (?:my|his|her|their) (?:own )?life\b(?! savings| insurance)",
     ()),
    ("end_it_all", r"\b(?:end|ending) (?:it|things|everything) all\b|\bend it all\b|\bending it all\b", ()),
    ("end_it", r"\b(?:want to|going to|ready to|about to|might|should|just|can|could|to|finally|thinking "
               r"(?:about|of)|plan to|planning to|will|gotta|have to|need to|decided to) (?:just )?end(?:ing)? "
               r"(?:it|everything|things|my suffering|the pain|my pain)\b(?! with| for| here| now| at| early| soon|"
               r" off| on| by| after| before| when| so| today| there| and go)", ()),
    ("want_to_die", r"\b(?:want|wants|wants to|want to|wish|wish i could|ready|ready to|deserve|deserve to|"
                    r"rather|hope|hoping|plan|planning|going|going to|trying|trying to|just want|wanted) "
                    r"(?:to )?(?:just )?die\b",
     ("figurative",)),
    ("wish_dead", r"\b(?:wish|wished) (?:i|id) (?:was|were|could be|would be|had) (?:dead|gone|never born|not alive|"
                  r"not here|never existed|died)\b|\bwish i (?:had )?never (?:been born|existed|woke up|wake up)\b|"
                  r"\bbetter off dead\b|\b(?:id|i would) (?:be )?better off dead\b|"
                  r"\bwish i could (?:just )?(?:be dead|disappear forever|not exist|stop existing|"
                  r"go to sleep forever|die)\b|\bdisappear (?:for good|forever|permanently)\b", ()),
    ("not_alive", r"\b(?:dont|do not|no longer|dont really|really dont|never|didnt) (?:want|wish) (?:to )?"
                  r"(?:be alive|exist|keep living|keep going|continue living|go on living|be in this world|"
                  r"live(?! (?:in|here|there|next|near|with|on|at|by|like|alone|somewhere|anywhere|close|"
                  r"around|downtown|across)\b)|be here(?! (?:when|at|for|all|until|tomorrow|today|tonight)\b)|"
                  r"wake up(?! (?:early|at|for|so|that|before)\b))", ()),
    ("no_reason", r"\bno (?:reason|point|purpose|will|desire|reasons) (?:to|in|for) (?:live|living|go on|going on|"
                  r"keep going|stay alive|be alive|life|exist|existing|being alive)\b|"
                  r"\b(?:dont|cant|do not|cannot|no longer|dont even) see (?:the|any) point (?:in|of) (?:living|"
                  r"life|going on|being alive|existing|anything)\b|\b(?:dont|cant|do not|cannot|no longer|"
                  r"dont even) see (?:a|any|the) (?:reason|point|purpose) (?:to|in|for|of) (?:live|living|"
                  r"keep going|go on|going on|be alive|"
                  r"life|stay|staying|keep living)\b|\b(?:whats|what is) the point of (?:living|"
                  r"life|going on|being alive)\b|\b(?:life is not|life isnt|not) worth living\b", ()),
    ("no_one_cares", r"\b(?:nobody|no one|noone|no body) (?:would|will|is going to|gonna) (?:care|notice|miss me)"
                     r"(?: \w+)? if i (?:died|was gone|were gone|disappeared|killed myself|wasnt here|was dead)\b",
     ()),
    ("better_off", r"\b(?:better off|happier|better) (?:without me|if i (?:was|were|wasnt|werent|had) (?:\w+ )?"
                   r"(?:gone|dead|here|around|alive|never born|died)|if i (?:died|didnt exist|never existed))\b", ()),
    ("tired_of_living", r"\b(?:tired|sick|exhausted) of (?:living|being alive|life|existing|being here)\b|"
                        r"\bdone (?:with life|with living|living|with being alive)\b|\blife (?:isnt|is not|aint) "
                        r"worth (?:it|living)\b", ()),
    ("never_wake", r"\b(?:go to sleep|fall asleep|sleep|close my eyes) and (?:just )?never wake up\b|"
                   r"\bnever wake up again\b|\bsleep forever\b|\bnot wake up (?:again|ever)\b", ()),
    ("want_it_over", r"\bwant (?:it|this|everything|the pain|all of this|it all|my life) (?:all )?to (?:be over|"
                     r"end|stop)\b", ()),
    ("took_pills", r"\b(?:i|ive|i have|i just|i already|i just now) (?:\w+ )?(?:took|swallowed|taken|ate|downed|"
                   r"overdosed on) (?:\w+ ){0,3}(?:bottle|bottles|bunch|handful|lot|box|pack|too many|extra|"
                   r"whole|entire|\d{2,}) (?:of )?(?:my |the |these )?(?:\w+ )?(?:pills|meds|medication|"
                   r"medications|tablets|tylenol|advil|xanax|oxy|percocet|sleeping pills|painkillers)\b|"
                   r"\b(?:i|ive|i have|i just) (?:just )?(?:took|swallowed|taken) all (?:of )?(?:my|the|these) "
                   r"(?:\w+ )?(?:pills|meds|medication|tablets)\b(?! (?:today|this morning|tonight|like|as|for|"
                   r"on time|with))", ()),
    ("goodbye_note", r"\b(?:goodbye|suicide) (?:letter|letters|note|notes|message|video)\b|\bthinking (?:about|of) "
                     r"how (?:to|i would|id|i could) do it\b|\bhow to (?:kill myself|end my life|end it all|do it "
                     r"painlessly)\b", ("program",)),
    ("means_ready", r"\b(?:pills|meds|gun|rope) (?:saved|stashed|ready|loaded)\b|\b(?:saving|stockpiling|"
                    r"saved) (?:up )?(?:my |the )?(?:pills|meds)\b|\bnoose\b|\bgun to my (?:own )?head\b|"
                    r"\b(?:use|turn|point|pointing|put|putting) (?:it|the gun|a gun|my gun|the knife|this|the "
                    r"pills) (?:\w+ )?on myself\b", ()),
    ("jump_off", r"\b(?:jump|jumping|jumped) (?:off|from|in front of) (?:a|the|this|that|my|of) (?:\w+ )?"
                 r"(?:bridge|roof|building|cliff|overpass|balcony|train|tower|bus|parking garage|highway)\b",
     ("program",)),
)

_ES_CRISIS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("want_to_die", r"\b(?:me quiero|quiero|quisiera|me quisiera|me voy a|voy a|tengo ganas de|ganas de|me dan "
                    r"ganas de|deseo|desearia|me gustaria|prefiero|solo quiero) morir(?:me)?\b", ("figurative",)),
    ("suicide", r"\bsuicid(?:arme|arse|arte|arnos|ar|o|a|as)\b|\bse suicide\b|\b(?:pensando en|pienso en|"
                r"pensamientos? de|intento de|intente|cometer|quiero) (?:el )?suicid(?:io|arme)\b|"
                r"\bpensamientos suicidas\b",
     ("program",)),
    ("kill_myself", r"\b(?:matarme|me voy a matar|me quiero matar|me mato|quitarme la vida|me voy a quitar la vida|"
                    r"me quiero quitar la vida|acabar con mi vida|terminar con mi vida|acabar con mi existencia|"
                    r"quiero acabar con todo|ya quiero acabar con todo)\b", ("figurative",)),
    ("no_will_to_live", r"\b(?:no|ya no) tengo (?:ganas|fuerzas|motivos|animo) (?:de|para) (?:vivir|seguir "
                        r"viviendo|seguir)\b", ()),
    ("not_alive", r"\b(?:no|ya no|nunca mas) quiero (?:seguir )?(?:vivir(?! (?:aqui|alli|ahi|en|cerca|con|lejos|"
                  r"solo|sola|de)\b)|viviendo|existir|estar viv[oa]|despertar(?! (?:temprano|a las)\b)|seguir "
                  r"aqui|estar en este mundo)\b", ()),
    ("self_harm", r"\bme (?:voy a |quiero |estoy |sigo |he estado |e estado |vuelvo a |volvi a )?"
                  r"cort(?:ar|o|ando)\b|\bcortarme\b|\blastimarme\b|\bhacerme dano\b|\bme (?:voy a|quiero) "
                  r"lastimar\b|\bautolesion\w*|\bme lastimo a proposito\b", ("figurative", "program")),
    ("no_reason", r"\bno (?:tengo|hay|tiene|le veo|encuentro) (?:\w+ )?(?:razon|razones|motivo|motivos|sentido|"
                  r"caso) (?:para|de|en) (?:vivir|seguir)\b|\bla vida no (?:tiene sentido|vale la pena)\b|"
                  r"\bno vale la pena (?:vivir|seguir viviendo)\b|\bno le veo (?:sentido|caso) a (?:la vida|vivir)\b",
     ()),
    ("tired_of_living", r"\b(?:cansad[oa]|harto|harta|hart[oa]s?) de (?:vivir|la vida|existir|estar viv[oa])\b|"
                        r"\bme (?:quiero|voy a) (?:aventar|tirar|lanzar|arrojar) (?:del|de un|de una|de la|al|a las|"
                        r"de el|desde el) (?:\w+ )?(?:puente|edificio|techo|azotea|metro|tren|vias|precipicio)\b|"
                        r"\b(?:aventarme|tirarme|lanzarme|arrojarme) (?:del|de un|de una|de la|al|a las|desde el) "
                        r"(?:\w+ )?(?:puente|edificio|techo|azotea|metro|tren|vias|precipicio)\b", ()),
    ("no_one_cares", r"\bnadie (?:me )?(?:va a|iba a|va|vaya a) (?:extranar|notar|importar|echar de menos)"
                     r"(?:me)?\b.{0,25}\bsi (?:me muero|muero|me mato|desaparezco|ya no estoy|me voy)\b|\ba nadie "
                     r"le (?:importaria|va a importar|importa) si (?:me muero|muero|me mato|desaparezco)\b", ()),
    ("better_off", r"\b(?:estarian|estaria|estaran|estan|vivirian|serian) (?:\w+ )?mejor sin mi\b|\bmejor sin mi\b|"
                   r"\bmejor (?:si )?(?:me muero|me muriera|estuviera muert[oa]|no existiera)\b", ()),
    ("pills", r"\btomar(?:me)? todas (?:las|mis) (?:pastillas|pildoras|medicinas|pastias)\b|\bpara no despertar\b|"
              r"\bno despertar (?:nunca|jamas|mas)\b|\bdormir(?:me)? y no despertar\b|\bme tome (?:todas|un frasco|"
              r"un bote|muchas) (?:\w+ )?(?:pastillas|pildoras)\b", ()),
    ("wish_dead", r"\b(?:quisiera|quiero|ojala|desearia|deseo|prefiero) (?:estar|estuviera) muert[oa]\b|"
                  r"\bojala (?:me muriera|no despertara|no hubiera nacido)\b|\bquisiera (?:no haber nacido|no "
                  r"existir|desaparecer para siempre)\b|\b(?:quiero|quisiera|me gustaria|solo quiero) "
                  r"desaparecer (?:para siempre|de este mundo|del mundo)\b", ()),
    ("third_person", r"\bse (?:quiere|va a|piensa|intento|trato de|quiso) (?:matar|suicidar|quitar la vida|morir|"
                     r"cortar)\b|\b(?:quiere|va a|piensa|intento|trato de) (?:matarse|suicidarse|quitarse la vida|"
                     r"cortarse)\b", ("figurative",)),
)

_EN_EMERGENCY: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # weapons
    ("weapon_present", rf"\b(?:with|has|have|had|holding|pulled|pulling|pointing|pointed|waving|brandishing|"
                       rf"armed with|got|gotta|gota|carrying|swinging|wielding|flashing|showing|aiming|loading)"
                       rf"(?: out| up)? (?:a|an|his|her|the|their|some|two|three|\d+)? ?(?:loaded )?{_WEAPON}\b",
     _PHP + ("figurative", "lawful_weapon")),
    ("armed", r"\barmed (?:man|men|guy|guys|person|people|robber|robbers|suspect|intruder|dude|woman)\b|"
              r"\b(?:at|held at) (?:gun|knife) ?point\b|\bheld (?:hostage|at gunpoint)\b", _PH),
    ("gun_pointed", rf"\b(?:pointing|pointed|aiming|aimed) (?:a |the |his |her |their )?(?:{_GUN}|{_BLADE}|it) "
                    rf"(?:at|to)\b", _PH),
    # shooting
    ("shots_fired", r"\b(?:shots? (?:fired|being fired|going off)|gun ?shots?|gunfire|gun fire|shootout|shoot out|"
                    r"drive ?by shooting|opened fire|open fire|firing (?:a gun|shots|at))\b", _PHP + ("figurative",)),
    ("shooting_now", rf"\b(?:{_SUBJECT}) {_AUX}(?:shooting|firing|shot (?:at|him|her|someone|somebody|my|them|"
                     rf"people|me|us|into|up))\b", _PHP),
    ("shot", r"\b(?:got|been|was|were|just|is|being|getting|has been|have been) (?:just )?shot\b(?! (?:down|glass|"
             r"glasses|put|clock|of|for|with my|by (?:a|the) (?:camera|photographer)))", _PHP),
    ("active_shooter", r"\b(?:active shooter|shooter|shooters|gunman|gunmen|sniper)\b", _PHP),
    ("someone_shooting", r"\b(?:is|are|s|re|keeps|still|started|start) shooting (?:at|people|everywhere|outside|"
                         r"in the|into|up|now|right now)\b|\bshooting (?:at|people|everywhere)\b", _PHP),
    # stabbing, assault, threats
    ("stabbing", r"\bstab(?:bed|bing|bings|s)?\b", _PHP),
    ("assault_now", rf"\b(?:is|are|s|re|hes|shes|theyre|im|been|keeps|keep|just|and|started|starting|still|now|"
                    rf"currently|was|were|keeps on|is like) (?:\w+ )?(?:beating|hitting|punching|choking|strangling|"
                    rf"kicking|hurting|attacking|assaulting|abusing|slapping|raping|stomping|smacking|killing|"
                    rf"stabbing|beating up|molesting|dragging|throwing|shoving|pushing|threatening|trying to "
                    rf"(?:kill|hurt|choke|strangle|stab|rape|grab|take|drown|shoot|run over|pull|drag|force)|"
                    rf"going after) (?:on )?{_OBJECT}\b", ("past", "howto", "figurative")),
    ("assaulted_me", rf"\b(?:{_SUBJECT}) (?:just |also |then )?(?:choked|strangled|hit|punched|stabbed|beat|"
                     rf"attacked|jumped|raped|assaulted|slapped|kicked|shot|pushed|grabbed|tried to (?:kill|choke|"
                     rf"strangle|stab|rape|shoot|drown)|molested) (?:me|us|my (?:\w+ )?{_KIN}|her|him)\b", _PH),
    ("being_attacked", r"\b(?:being|getting|is being|are being|am being|im being) (?:attacked|assaulted|beaten|"
                       r"beat up|abused|robbed|followed|stalked|chased|kidnapped|abducted|shot at|threatened|raped|"
                       r"mugged|jumped|stabbed|choked|strangled|carjacked|held hostage|held at gunpoint|held up|"
                       r"hunted|broken into|burglarized|held)\b|\b(?:got|just got|were just|was just|been) "
                       r"(?:attacked|assaulted|beaten|beat up|robbed|kidnapped|abducted|shot at|raped|mugged|jumped|"
                       r"stabbed|choked|strangled|carjacked|held up|held at gunpoint)\b|\bunder attack\b",
     ("past", "howto", "online", "figurative", "scam")),
    ("confined", r"\b(?:wont|will not|doesnt|does not|isnt) let (?:me|us|her|him|them) (?:leave|go|out)\b|"
                 r"\b(?:locked|trapped|tied up|tied|holding|keeping) (?:me|us|her|him|them) (?:in|inside|up)\b|"
                 r"\bheld against (?:my|her|his|their|our) will\b|\b(?:im|i am|we are|were|were all) (?:\w+ )?"
                 r"(?:trapped|stuck inside|tied up|being held|locked inside)\b", _PHP + ("outing",)),
    ("wont_leave", r"\b(?:outside|at|in front of|by) (?:my|our|the) (?:\w+ )?(?:house|door|window|apartment|home|"
                   r"car|work|building|room)\b.{0,40}\b(?:wont|will not|refuses to|refusing to|doesnt|dont) "
                   r"(?:leave|go away)\b", _PH),
    ("child_in_hot_car", r"\b(?:baby|kid|kids|child|children|toddler|infant|dog|puppy)\b.{0,25}\b(?:locked in|"
                         r"left in|alone in|trapped in|stuck in) (?:a |the |his |her |their |this )?(?:\w+ )?"
                         r"(?:car|truck|van|suv|vehicle)\b", _PH),
    ("exposure", r"\bexpos(?:ing|ed) (?:him|her|them)sel(?:f|ves)\b", _PH),
    ("bomb", r"\b(?:bomb|bombs|explosive|explosives|pipe bomb|ied|detonator|blow up (?:the|a|my|our|this) (?:\w+ )?"
             r"(?:school|building|house|car|place|church|mall|store|office|station))\b|\b(?:suspicious|"
             r"unattended) (?:package|bag|device|backpack|box)\b", _PHP + ("figurative",)),
    ("dead_person", rf"\b(?:{_SOMEONE}|{_ANY_PERSON}|he|she|they|hes|shes|theyre) (?:\w+ )?(?:is |s |are |re |"
                    rf"looks |might be |may be |could be |seems )?dead\b", _PH + ("object", "figurative")),
    ("man_down", r"\b(?:man|person|officer|guy|woman|someone|somebody|people) down\b", ("figurative",)),
    ("threat", r"\b(?:going to|will|hell|shell|theyll|ill|hed|shed|would|wants to|want to|threatening to|"
               r"threatened to|threatens to|trying to|about to|said he would|says he will|said hes going to|"
               r"says hes going to|finna|ready to|coming to|coming back to|gonna|promised to|swears hell|"
               r"swore he would) (?:\w+ )?(?:kill|shoot|stab|hurt|murder|"
               r"rape|beat|attack|strangle|choke|jump|rob|burn|kidnap|take|blow up|run over) (?:me|us|you|her|him|"
               r"them|everyone|everybody|somebody|someone|people|all of us|my (?:\w+ )?" + _KIN + r")\b",
     _PH + ("figurative",)),
    ("fear_for_life", r"\b(?:scared|afraid|terrified|fear|fearing|worried) for (?:my|our|her|his|their) "
                      r"(?:life|lives|safety)\b|\bin danger\b(?! of)", ("howto",)),
    ("fight", r"\b(?:fight|fights|brawl|fist ?fight|fistfight|riot|stabbing|beatdown|beat down)\b (?:\w+ ){0,3}"
              r"(?:outside|in front|in the street|on the street|next door|going on|happening|breaking out|broke "
              r"out|right now|at the|in the parking|in my|downstairs|upstairs|across)\b|\bfighting (?:outside|in "
              r"the street|on the street|in front|next door|right now|with (?:a|knives|guns|bats|weapons)|in the "
              r"parking)\b", _PHP + ("figurative",)),
    ("violence_now", r"\b(?:domestic (?:violence|dispute|abuse)|robbery|break ?in|burglary|assault|shooting|"
                     r"stabbing|fight|attack|kidnapping|carjacking|home invasion|abduction|dv|abuse)\s+"
                     r"(?:\w+ ){0,2}(?:is |s )?(?:happening|going on|in progress|taking place|right now)\b|"
                     r"\bhome invasion\b", _PHP),
    ("screaming", r"\b(?:screaming|yelling|crying|calling|shouting|begging|asking|cried|screamed|yelled) (?:out )?"
                  r"(?:for help|help)\b|\bscreaming (?:for her life|for his life|bloody murder|and crying|no)\b|"
                  r"\b(?:i can hear|i hear|hearing) (?:\w+ ){0,2}(?:screaming|screams|crying for help)\b", _PH),
    ("hiding", r"\b(?:im|i am|we are|were|we re|were all|i) (?:\w+ )?(?:hiding|locked in|barricaded)\b|^hiding\b|"
               r"\bhiding (?:in|under|inside|behind) (?:my|the|a|our) (?:\w+ )?(?:bed|closet|bathroom|room|"
               r"basement|attic|car|house|garage|kitchen|shower|tub|desk|couch|door)\b", _PH + ("hypothetical",)),
    ("moving_inside", rf"\b(?:{_SOMEONE}|{_ANY_PERSON}|stranger|strangers|man|guy|dude|person|people) (?:is |are |s |"
                      rf"re |just |still )*(?:walking|wandering|sneaking|creeping|moving|going|running|rummaging) "
                      rf"(?:around|through) (?:in )?(?:my|our|the) (?:\w+ )?(?:house|home|apartment|apt|kitchen|"
                      rf"room|bedroom|backyard|yard|garage|basement|attic|hallway|place|upstairs|downstairs)\b", _PH),
    # intruders, break-ins, robbery
    ("break_in_now", rf"\b(?:{_SUBJECT}|{_SOMEONE}) {_AUX}(?:trying to |attempting to |about to |going to )?"
                     rf"(?:break|breaking|get|getting|climb|climbing|force|forcing|kick|kicking|pry|prying|sneak|"
                     rf"sneaking|crawl|crawling|jimmy|jimmying|smash|smashing|bust|busting|cut|cutting)"
                     rf"(?: in\b| into\b| inside\b| through\b| down (?:the|my|our)\b| open (?:the|my|our)\b)"
                     rf"(?! touch| contact| line| trouble| shape| the car and left)", _PH),
    ("break_in_present", r"\b(?:broke|broken|breaking|got|came|snuck|climbed|busted|forced) (?:in|into|inside)\b"
                         r".{0,60}?\b(?:still|hasnt left|havent left|is here|are here|in here|inside now|"
                         r"right now)\b",
     ()),
    ("intruder", r"\b(?:intruder|intruders|prowler|prowlers|burglar in|home invader|invaders)\b", _PH),
    ("someone_in_place", rf"\b(?:someones|somebodys|theres someone|theres somebody|someone s|somebody s) (?:\w+ )?"
                         rf"(?:in|inside|hiding in|in side) (?:my|our|the) (?:\w+ )?{_PLACE}\b", _PH),
    ("someone_inside", rf"\b(?:{_SOMEONE}|{_ANY_PERSON}|stranger|strangers|man|guy|dude|person) (?:is |s |are |re |"
                       rf"still |hiding |inside |walking around |standing |sitting |lurking )+(?:in|inside|in side|"
                       rf"hiding in|under|into|in the back of) (?:my|our|the) (?:\w+ )?{_PLACE}\b", _PH),
    ("there_is_someone", rf"\b(?:theres|there is|there are|there s|i hear|i heard|i see|i saw|help|omg|someones|"
                         rf"somebodys) (?:\w+ )?(?:{_SOMEONE}|{_ANY_PERSON}|stranger|strangers|man|guy|dude|person|"
                         rf"people) (?:\w+ )?(?:in|inside|hiding in|under|on|at|outside|by) (?:my|our|the) "
                         rf"(?:\w+ )?(?:{_PLACE}|window|door|roof|fire escape)\b", _PH),
    ("trying_door", r"\b(?:trying|tried|jiggling|rattling|turning|checking|opening|pulling|yanking|testing) (?:\w+ )?"
                    r"(?:the|my|our) (?:\w+ )?(?:door|doors|doorknob|door knob|knob|handle|window|windows|lock|"
                    r"locks|gate)\b", _PH),
    ("banging_door", r"\b(?:banging|pounding|kicking|bashing|smashing|breaking|ramming|beating) "
                     r"(?:on |down |in |at )?(?:the|my|our) (?:\w+ )?(?:door|doors|window|windows)\b|"
                     r"\bthrough (?:my|the|our) (?:\w+ )?window\b", _PH),
    ("robbery_now", r"\b(?:is|are|s|re|being|getting|im|am|were getting) (?:\w+ )?(?:robbed|mugged|carjacked|held "
                    r"up|burglarized|broken into)\b|\b(?:robbing|mugging|carjacking|holding up|looting|"
                    r"burglarizing|armed robbery)\b", _PHP + ("tip",)),
    # abduction, missing child
    ("kidnapping", r"\b(?:kidnap\w*|abduct\w*)\b", _PHP + ("scam",)),
    ("grabbed_into_vehicle", rf"\b(?:grabbed|grabbing|snatched|snatching|dragged|dragging|threw|throwing|forced|"
                             rf"forcing|pulled|pulling|pushed|pushing|took|taking|shoved|shoving) (?:\w+ )?"
                             rf"(?:{_OBJECT}|a (?:\w+ )?(?:girl|boy|kid|child|woman|lady))\b.{{0,30}}"
                             rf"\b(?:into|in) (?:a|an|his|her|the|their|this|that)? ?(?:\w+ )?(?:van|car|truck|suv|"
                             rf"vehicle|trunk)\b", _PH),
    ("missing_child", rf"\b(?:cant|cannot|can not|couldnt|could not|cant seem to) find (?:my|our) (?:\w+ ){{0,2}}"
                      rf"(?:{_KIN}|year old|yr old|yo|yrs old|years old|month old)\b", _PH),
    ("missing_person", rf"\b(?:my|our) (?:\w+ ){{0,2}}(?:{_KIN}|year old|yr old) (?:\w+ )?(?:is|s|has gone|went|"
                       rf"has been|been|are|got|was|just went|wandered|ran) (?:missing|lost|off)\b(?! (?:school|"
                       rf"class|classes|work|practice|a|an|the|his|her|their|my|out|teeth|tooth|homework|"
                       rf"assignments|days|curfew|shoe|shoes|phone|keys|glasses)\b)|"
                       rf"\b(?:my|our) (?:\w+ )?{_KIN} (?:was|got|has been|is being|is) (?:just )?(?:taken|snatched|"
                       rf"grabbed|abducted|kidnapped)\b|"
                       rf"\blost my (?:\w+ )?(?:son|daughter|kid|child|baby|toddler|boy|girl)\b", _PH + ("scam",)),
    # fire, smoke, gas
    ("on_fire", r"\b(?:on fire|in flames|ablaze|caught fire|catching fire|set fire|set on fire|burning down|"
                r"engulfed)\b", _PH + ("figurative",)),
    ("burning", rf"\b(?:{_PLACE}|building|roof|school|barn|woods|field|everything|apartments|houses|"
                rf"complex|unit|church|restaurant) (?:\w+ ){{0,4}}(?:is|s|are|re) (?:\w+ )?burning\b", _PH),
    ("fire", r"\b(?:theres|there is|a|big|huge|massive|house|building|apartment|car|kitchen|brush|grass|wild|"
             r"structure|electrical|grease|forest|dumpster|trash|garage|yard) fire\b(?! (?:safety|station|"
             r"stations|pit|pits|hydrant|hydrants|department|dept|alarm|alarms|drill|drills|extinguisher|"
             r"extinguishers|prevention|truck|trucks|fighter|fighters|marshal|code|codes|lane|escape|works|work|"
             r"place|wood|inspection|academy|chief|talk|class|training|permit|permits|ban|season|danger|risk|map|"
             r"insurance|exit|door|sale|starter|starters|ring|rings|bowl|table|tables|pit))", _PHP + ("figurative",)),
    ("smoke", r"(?<!chimney )\bsmoke (?:is |was )?(?:coming|pouring|everywhere|billowing|filling|from|out of|"
              r"rising|in the|inside)\b|\b(?:lots of|so much|thick|black|heavy|a lot of|alot of|all this) "
              r"smoke\b|\bfull of smoke\b|\bsmell (?:\w+ )?(?:smoke|burning)\b", _PH + ("harmless_fire",)),
    ("gas_leak", r"\b(?:smell|smells|smelling|smelled|reeks|stinks|stinking) (?:\w+ ){0,3}(?:of |like )?"
                 r"(?:gas|propane|natural gas)\b|\bgas leak\w*\b|\bleaking gas\b|\bcarbon monoxide\b|"
                 r"\bco (?:alarm|detector) (?:is )?(?:going off|beeping)\b", _PHP),
    # medical
    ("not_breathing", r"\b(?:not|isnt|aint|stopped|stop|cant|cannot|can not|hardly|barely|no longer|trouble|"
                      r"struggling to|wasnt|havent been|hasnt been|not been|doesnt seem to be|difficulty|"
                      r"isnt really) (?:\w+ )?breath(?:ing|e)\b", ("program",)),
    ("unconscious", r"\b(?:unconscious|unresponsive|passed out|blacked out|fainted|collapsed|not conscious|lost "
                    r"consciousness|knocked out|no pulse|not responsive|isnt responsive|keeled over)\b"
                    r"(?! (?:flyers|fliers|papers|pamphlets|candy|food|water|info|information|stickers|badges|"
                    r"cards|tickets|the|some|free|masks|forms|shirts|t shirts|bags|gifts|toys|coupons|"
                    r"brochures|snacks))", ("program", "howto")),
    ("wont_wake", r"\b(?:wont|will not|doesnt|does not|isnt|is not|not|didnt) (?:\w+ )?(?:wake|waking) up\b|"
                  r"\b(?:cant|cannot|can not|couldnt|could not) (?:wake|get) (?:him|her|them|my \w+|\w+) up\b|"
                  r"\b(?:cant|cannot|can not|couldnt|could not) wake (?:him|her|them|my \w+)\b(?! up (?:early|on|in|"
                  r"for|at))", ("program",)),
    ("swallowed_pills", r"\b(?:swallowed|took|ate|drank|downed|taken) (?:a |an |the |all |all of )?(?:whole |entire |"
                        r"full )?(?:bottle|bunch|handful|box|pack|lot) of (?:\w+ )?(?:pills|meds|medication|"
                        r"medications|tablets|medicine|bleach|poison|sleeping pills|painkillers)\b", ("howto",)),
    ("not_responding", r"\b(?:not|isnt|arent|stopped|wasnt|no longer) (?:\w+ )?(?:responding|responsive|moving|"
                       r"reacting|waking)\b", ("program", "object", "howto")),
    ("overdose", r"\b(?:overdos\w*|oding)\b", _PHP),
    ("bleeding", r"\b(?:is|s|are|re|hes|shes|theyre|im|keeps|still|been|and) (?:\w+ )?bleeding\b|\bbleeding "
                 r"(?:really|so|a lot|alot|badly|bad|heavily|out|everywhere|from|profusely|nonstop|wont stop)\b|"
                 r"\bblood everywhere\b|\b(?:lots|lot|so much|tons|pool|puddle) of blood\b|\bwont stop bleeding\b|"
                 r"\bcovered in blood\b|\b(?:stop|slow) (?:the |his |her |my )?bleeding\b|\bcut (?:his|her|my|their) "
                 r"(?:\w+ )?(?:hand|arm|leg|finger|wrist|head|neck|throat|face) (?:really |very |so )?(?:bad|badly|"
                 r"deep|open|off)\b", ("program",)),
    ("medical_event", r"\b(?:having|had|has|in|is in) (?:a |an )?(?:seizure|seizures|heart attack|stroke|asthma "
                      r"attack|allergic reaction|anaphylactic|diabetic|cardiac arrest|fit)\b|\b(?:seizing|"
                      r"convulsing|turning blue|turned blue|lips are blue|is blue|choking on|anaphylaxis|cardiac "
                      r"arrest|cant stop shaking)\b|\b(?:is|s) choking\b|\bheart (?:stopped|isnt beating)\b",
     _PHP + ("figurative",)),
    ("drowning", r"\bdrown\w*\b|\bfell (?:in|into) (?:the |a )?(?:pool|river|lake|water|creek|canal|ocean|pond|"
                 r"bay)\b|\bunder ?water and\b", _PHP + ("figurative",)),
    ("dying_now", r"\b(?:is|s|are|re|im|i am) dying\b|\bgoing to die\b|\bgonna die\b|\bbleed(?:ing)? to death\b",
     ("object", "figurative", "howto")),
    ("ambulance", r"\b(?:need|needs|needed|send|call|get|want|requesting|request) (?:an? |the |some )?"
                  r"(?:ambulance|ambulances|paramedics?|ems|medics?|medical help)\b|\b(?:ambulance|ambulances|"
                  r"paramedics) (?:needed|now|asap|please|pls|right now|here)\b", ("howto", "program")),
    ("dead_body", r"\b(?:dead body|dead person|dead man|dead woman|found (?:a|someone|somebody|him|her) dead|body "
                  r"(?:in|on|under) the)\b", _PH),
    # traffic
    ("people_hurt", r"\b(?:(?:people|someone|somebody|person|persons|guy|man|woman|kid|child|driver|drivers|"
                    r"passengers?|pedestrian|pedestrians|biker|bikers|cyclist|everyone|kids|lady|someones|girl|boy|"
                    r"baby|victim|victims|hes|shes|theyre) (?:is |are |s |re |were |was |got |been |badly |"
                    r"seriously |really |very |all |still |looks |look )*|(?:he|she|they) (?:is |are |s |re |were |"
                    r"was |got |been |badly |seriously |really |very |all |still |looks |look )+)(?:hurt|injured|"
                    r"trapped|pinned|stuck inside|stuck in the car|bleeding|hit by a car|run over|unconscious)\b",
     _PHP),
    ("crash", r"\b(?:bad|serious|major|terrible|horrible|big|huge|nasty|massive|multi car|head on|fatal) (?:car )?"
              r"(?:crash|accident|wreck|collision|pileup|pile up)\b|\b(?:car|truck|vehicle|suv|van|bus) (?:\w+ )?"
              r"(?:flipped|rolled over|on its roof|upside down|in the water|in the river|into a (?:house|building|"
              r"store|crowd))\b|\bflipped over\b|\brollover\b|\b(?:accident|crash|wreck|collision)\b (?:\w+ ){0,3}"
              r"(?:with )?(?:injuries|injured|people hurt|victims|casualties|fatalities)\b", _PHP),
    ("hit_and_run", r"\bhit (?:a|the|some|this|that) (?:\w+ )?(?:pedestrian|kid|child|biker|cyclist|person|man|"
                    r"woman|guy|lady|girl|boy|jogger|old man|old lady)\b|\b(?:hit and run|ran over|run over|"
                    r"got hit by (?:a|the) (?:car|truck|bus|train)|hit by (?:a|the) "
                    r"(?:car|truck|bus|train))\b", _PHP),
    ("drunk_driver", r"\b(?:drunk driv\w*|driving drunk|swerving|wrong way (?:driver|on)|driving (?:the )?wrong way|"
                     r"dui driver|drunk behind the wheel)\b", _PHP),
    # following, stalking
    ("followed", r"\b(?:is|are|s|re|been|keeps|keep|still|hes|shes|theyre|has been|have been|started|now) "
                 r"(?:\w+ )?(?:following|chasing|stalking|tailing) (?:me|us|my|our)\b|\bfollowed (?:me|us) "
                 r"(?:home|here|to|from|all)\b|\bbeing (?:followed|chased|stalked|tailed)\b",
     ("past", "howto", "online")),
    # pleas and calls for help
    ("plea_help_me", r"(?<!you )(?<!u )(?<!to )(?<!can )(?<!could )(?<!would )(?<!will )(?<!how )\bhelp (?:me|us)\b"
                     r"(?! (?:with|find|fill|get|understand|figure|know|to|locate|out|how|about|on|learn|sign|"
                     r"register|apply|choose|pick|set|make|write|report|file|contact|reach|request|access|"
                     r"download|reset|update|change|cancel|schedule|book|join|decide|remember|translate|use|read)\b)",
     ("howto",)),
    ("plea_someone_help", r"\b(?:someone|somebody|anyone|anybody|send) (?:please |pls )?help\b"
                          r"(?! (?:me|us) (?:with|find|fill|get|understand|figure|know|to)\b)", ("howto", "program")),
    ("plea_repeated", r"\b(?:help|sos|911|auxilio|ayuda|socorro|ayudame|ayudenme)(?: (?:help|sos|911|auxilio|"
                      r"ayuda|socorro|ayudame|ayudenme))+\b", ()),
    ("plea_help_start", r"^help (?:please |now )?(?:someone|somebody|there (?:is|are|s)|theres|hes|shes|theyre|"
                        r"he is|she is|they are|911|now|asap|quick|hurry|fast|urgent|im being|my (?:\w+ )?(?:is|"
                        r"isnt|cant|wont|has|got))\b", ()),
    # "sos" alone or with a plea; in a sentence it is often Central American Spanish ("vos sos").
    ("distress_signal", r"^sos$|\bsos (?:please|help|ayuda|auxilio|911|sos)\b|\b(?:help|ayuda|auxilio|911|please) "
                        r"sos$", ()),
    ("bare_911", r"^(?:911|call 911|calling 911|need 911)$", ()),
    ("bare_alarm", r"^(?:fire|emergency|ambulance|intruder|shooter|gun|shooting|kidnap|rape|murder)$", ()),
    ("call_police", r"\b(?:someone|somebody|anyone|please|pls|can you|can someone|could you|you|u|just) "
                    r"(?:please )?call (?:911|the police|police|the cops|cops|an ambulance|for help|the fire "
                    r"department)\b|^(?:please )?call (?:the )?(?:911|police|cops|an ambulance)\b",
     ("howto", "program", "event")),
    ("send_police", r"\bsend (?:the |some |an? |over |out )?(?:cops|cop|police|help|someone|somebody|ambulance|"
                    r"officers?|patrol|units?|fire ?trucks?|paramedics|the fire department|backup|swat)\b",
     ("howto", "program", "past", "event")),
    ("declared_emergency", r"\b(?:this is|its|it is|i have|we have|theres|there is|got|having) (?:an? )?(?:real |"
                           r"actual |medical |serious |true )?emergency\b(?! (?:number|line|contact|room|kit|plan|"
                           r"alert|alerts|management|services|preparedness))", ("howto", "negated", "program")),
    ("hurry", r"\b(?:hurry|come quick|come fast|come now|get here now|need (?:the )?police now|need cops now|"
              r"need help now|need help asap|need help right now|need help fast)\b", ("howto", "figurative")),
)

_ES_EMERGENCY: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("plea_cry_for_help", r"\bauxilio\b", ("name",)),
    ("bare_alarm", r"^(?:fuego|incendio|emergencia|ambulancia|intruso|balacera|secuestro|violacion)$", ()),
    ("plea_cry_for_help_or_name", r"\bsocorro\b", ("name",)),
    ("plea_help_us", r"\b(?:ayudame|ayudenme|ayudeme|ayudanos|ayudennos)\b(?! (?:a|con|para|en|por favor a|"
                      r"por favor con|a encontrar|a saber)\b)", ("howto",)),
    ("plea_urgent", r"\b(?:necesito|necesitamos) (?:ayuda|a la policia|una patrulla|una ambulancia) "
                    r"(?:urgente|ya|rapido|ahora|ahorita)\b|\bayuda urgente\b|\bes una emergencia\b|"
                    r"\b(?:hay|tengo|tenemos) una emergencia\b", ("negated", "howto")),
    ("come_now", r"\bvengan? (?:rapido|pronto|ya|ahora|ahorita|por favor|urgente)\b|\b(?:manden|mande|envien|"
                 r"envie|mandan|mandar|manda) (?:a )?(?:alguien|ayuda|la policia|policias?|una patrulla|patrullas|"
                 r"una ambulancia|ambulancia|a los bomberos|bomberos|oficiales)\b|\bllamen (?:a )?(?:la policia|"
                 r"el 911|al 911|una ambulancia|a los bomberos|a alguien)\b", ("howto", "program", "event")),
    ("weapon_present", r"\b(?:con|tiene|trae|traen|saco|sacaron|lleva|llevan|armado con|amenaza con|amenazan con|"
                       r"amenazo con|apuntando con|apunta con|apuntandome con) (?:un|una|unos|unas|su|sus|el|la)? ?"
                       r"(?:pistola|pistolas|arma|armas|cuchillo|cuchillos|navaja|navajas|machete|machetes|rifle|"
                       r"rifles|escopeta|bate|fusil|cuerno de chivo|cuete|fierro|cuchilla|puval|punal)\b",
     _PHP + ("figurative", "lawful_weapon")),
    ("armed", r"\b(?:armad[oa]s?|a punta de pistola|encanonando|encanonado)\b|\bapuntando(?:me|le|les|nos)? "
              r"(?:a (?:la gente|alguien|mi|su|un|una|los|las|el|todos)|con)\b", _PHP),
    ("shooting", r"\b(?:tiroteo|balacera|balaceando|balazos?|disparos?|dispararon|disparando|disparo|tirador activo|"
                 r"tiros|balearon|baleado|baleada|balaceo|balacearon|le dieron un balazo|estan tirando balazos)\b",
     _PHP + ("figurative",)),
    ("stabbing", r"\b(?:apunal\w*|acuchill\w*|navajazo\w*|picaron|lo picaron|la picaron)\b", _PHP),
    ("threat", r"\b(?:me|nos|te|lo|la|los|las|le) (?:quiere|quieren|va a|van a|amenaza con|amenazan con|amenazo con|"
               r"esta amenazando con|trata de|tratan de|intenta|intentan|dice que (?:me|nos) va a) (?:matar|disparar|"
               r"apunalar|golpear|pegar|secuestrar|violar|acuchillar|balacear|quemar|ahorcar|atropellar)\b|"
               r"\b(?:quiere|quieren|va a|van a|amenaza con|amenazo con|dice que va a) (?:matarme|matarnos|matarla|"
               r"matarlo|dispararme|pegarme|golpearme|violarme|secuestrarme|apunalarme|matar a)\b",
     _PH + ("figurative",)),
    ("assault_now", r"\b(?:me|nos|la|lo|le|los|las) (?:esta|estan|sigue|siguen|anda|andan) (?:\w+ )?(?:pegando|"
                    r"golpeando|matando|ahorcando|asfixiando|apunalando|acuchillando|violando|atacando|lastimando|"
                    r"maltratando|amenazando|jaloneando|arrastrando)\b|\b(?:esta|estan|sigue|siguen) (?:\w+ )?"
                    r"(?:pegando|golpeando|pegandole|golpeandole|ahorcando|asfixiando|apunalando|acuchillando|"
                    r"violando|atacando|lastimando|maltratando|matando|agrediendo|abusando de)\b",
     ("past", "howto", "figurative")),
    ("assaulted_me", r"\bme (?:golpeo|pego|ahorco|apunalo|ataco|violo|asfixio|amenazo|disparo|golpearon|pegaron|"
                     r"atacaron|violaron|asaltaron ahorita)\b|\b(?:me|nos) acaban de (?:asaltar|robar|golpear|pegar|"
                     r"apunalar|disparar|atacar|violar|amenazar)\b", _PH),
    ("fight", r"\b(?:una |hay una |se armo una )?(?:pelea|rina|bronca|trifulca|golpiza)\b (?:\w+ ){0,3}(?:afuera|"
              r"en la calle|enfrente|ahorita|con|aqui|al lado)\b|\bse (?:estan|estan dando de) (?:peleando|"
              r"golpeando|agarrando a golpes|madreando)\b|\bestan peleando\b", _PHP),
    ("screaming", r"\b(?:pidiendo|gritando|grita|gritan|pide) (?:ayuda|auxilio|socorro)\b|\bse (?:oyen|escuchan) "
                  r"(?:los |unos )?gritos\b|\b(?:escucho|oigo|se oye|se escucha) (?:a alguien )?gritar\b", _PH),
    ("child_in_hot_car", rf"\b(?:bebe|nin[oa]s?|{_ES_FAMILIA}|perro|perrito)\b.{{0,25}}\b(?:encerrad[oa]s?|"
                         r"sol[oa]s?|atrapad[oa]s?) (?:en|dentro de) (?:un|una|el|la|su)? ?(?:carro|coche|camioneta|"
                         r"troca|auto|vehiculo)\b", _PH),
    ("confined", r"\bno (?:me|nos|la|lo|le) (?:deja|dejan|quiere dejar|quieren dejar) (?:salir|ir|irme|irnos)\b|"
                 r"\b(?:me|nos|la|lo) tiene(?:n)? (?:encerrad[oa]s?|amarrad[oa]s?|secuestrad[oa]s?)\b|"
                 r"\b(?:estoy|estamos) (?:encerrad[oa]s?|secuestrad[oa]s?|atrapad[oa]s?|amarrad[oa]s?)\b",
     _PHP + ("outing",)),
    ("hiding", r"\b(?:estoy|estamos) (?:\w+ )?escondid[oa]s?\b|\bme escondi\b|\bnos escondimos\b", _PH),
    ("someone_inside", rf"\b(?:hay|esta|estan|anda|andan|se metio|se metieron|veo|vi) (?:un |una |unos |unas |dos |"
                       rf"tres )?{_ES_PERSONA} (?:\w+ )?(?:en|dentro de|adentro de|afuera de|en el|metido en) "
                       rf"(?:mi|la|nuestra|nuestro|el) {_ES_LUGAR}\b", _PH),
    ("break_in", rf"\b(?:entro|entraron|se metio|se metieron|se meten|se mete|entra|entran|se brinco|se brincaron|"
                 rf"se esta metiendo|se estan metiendo) (?:a|en|por) (?:mi|la|nuestra|nuestro|el) {_ES_LUGAR}\b|"
                 rf"\b(?:esta|estan) (?:entrando|metiendose|forzando|brincandose|saltandose|rompiendo)\b|"
                 rf"\b(?:tratando de|intentando|trata de|tratan de|intenta|intentan|quiere|quieren|queriendo) "
                 rf"(?:entrar|meterse|meter|abrir|forzar|brincarse|saltarse|romper) (?:a |en |por )?(?:mi|la|"
                 rf"nuestra|nuestro|el|las|los) {_ES_LUGAR}\b", _PH),
    ("robbery_now", r"\b(?:esta|estan|estamos|me estan|nos estan|me esta|nos esta) (?:\w+ )?(?:robando|asaltando|"
                    r"atracando|saqueando)\b|\basalto (?:a mano armada|en progreso)\b", _PH + ("tip",)),
    ("kidnapping", r"\b(?:secuestr\w*|raptaron|rapto|raptando|levantaron a)\b|\bse (?:lo|la|los|las) llevaron\b|"
                   rf"\b(?:se llevaron|robaron|se robaron|se robo|agarraron|subieron|se llevo) a "
                   rf"(?:un |una |mi |mis |el |la |los |las |unos |unas |nuestr[oa] )?(?:{_ES_FAMILIA}|"
                   r"mujer|hombre|senor|senora|joven|chavo|chava)\b", _PHP + ("scam",)),
    ("missing_child", rf"\bno (?:encuentro|encontramos|hallo|aparece|aparecen|veo) (?:a )?(?:mi |mis |nuestr[oa]s? )?"
                      rf"{_ES_FAMILIA}\b|\b{_ES_FAMILIA}\b.{{0,30}}\b(?:se (?:me |nos )?perdio|esta perdid[oa]|"
                      rf"desaparecio|esta desaparecid[oa]|no aparece|no ha (?:llegado|regresado|vuelto))\b|"
                      rf"\bse (?:me |nos )?perdio (?:mi|el|la|nuestr[oa]) {_ES_FAMILIA}\b", _PH),
    ("fire", r"\b(?:hay|se ve|veo) (?:un |una )?(?:incendio|fuego|llamas)\b|\bun incendio (?:en|cerca|al lado)\b|"
             r"\bse (?:esta |estan )?(?:quemando|incendiando)\b|\bse (?:incendio|prendio fuego)\b|\ben llamas\b|"
             r"\besta ardiendo\b|\bfuego en (?:la|el|mi|su|una|un|los|las)\b|\bsale (?:mucho )?humo\b|"
             r"\bhumo (?:saliendo|por todos|por todas|negro|por todo|sale)\b|\bhay (?:mucho )?humo\b|"
             r"\bhuele a (?:humo|quemado)\b", _PHP + ("figurative",)),
    ("gas_leak", r"\b(?:huele|olor|oler) (?:\w+ ){0,3}(?:a )?gas\b|\bfuga de gas\b", _PHP),
    ("not_breathing", r"\bno (?:respira|esta respirando|puede respirar|respiraba)\b|\bdejo de respirar\b|"
                      r"\b(?:casi no|apenas) respira\b|\bno tiene pulso\b", ("program",)),
    ("unconscious", r"\b(?:inconsciente|se desmayo|desmayad[oa]|se desvanecio|perdio el conocimiento|"
                    r"no (?:despierta|reacciona)|se (?:cayo|desplomo) y no)\b", ("program", "howto")),
    ("not_responding", r"\bno (?:responde|se mueve|contesta|se levanta)\b", ("program", "object", "howto")),
    ("overdose", r"\b(?:sobredosis|sobre dosis)\b", _PHP),
    ("bleeding", r"\b(?:esta|estan|estoy|sigue) sangrando\b|\bsangrando (?:mucho|muchisimo|bastante)\b|"
                 r"\bmucha sangre\b|\bsangre por todos lados\b|\bse esta desangrando\b", ("program", "howto")),
    ("medical_event", r"\b(?:convulsion\w*|esta convulsionando|infarto|ataque (?:al corazon|cardiaco|de epilepsia|"
                      r"epileptico)|derrame cerebral|esta morad[oa]|se puso morad[oa]|se (?:esta )?ahog\w*|"
                      r"se esta atragantando|no puede respirar)\b", _PHP + ("figurative",)),
    ("dying_now", r"\bse (?:esta|estan) muriendo\b|\bse va a morir\b", ("object", "figurative", "howto")),
    ("ambulance", r"\b(?:necesito|necesitamos|manden|mande|llamen|ocupo|ocupamos) (?:una |la )?ambulancia\b|"
                  r"\bambulancia (?:urgente|ya|rapido|por favor)\b", ("howto", "program")),
    ("people_hurt", rf"\b(?:hay|hubo) (?:\w+ )?(?:heridos|lesionados|muertos|gente herida|personas heridas|gente "
                    rf"atrapada|personas atrapadas)\b|\b(?:gente|personas?|alguien|senor|senora|{_ES_FAMILIA}|hombre|"
                    rf"mujer|muchacho|chofer|conductor|ciclista|peaton)\b.{{0,15}}\b(?:atrapad[oa]s?|herid[oa]s?|"
                    rf"prensad[oa]s?)\b", _PHP),
    ("crash", r"\b(?:accidente|choque|choque) (?:muy )?(?:grave|fuerte|feo|horrible|terrible)\b|\batropell\w*\b|"
              r"\bse volteo (?:un|el|una|la) (?:carro|coche|camion|troca|camioneta)\b", _PHP),
    ("drunk_driver", r"\b(?:conductor|chofer|alguien|un tipo|un senor) (?:\w+ )?(?:borracho|ebrio|tomado)\b|"
                     r"\bmanejando (?:borracho|en sentido contrario|como loco)\b", _PHP),
    ("followed", r"\bme (?:esta|estan|vienen|viene|andan|anda) siguiendo\b|\bsiguiendome\b|\bme siguen (?:\w+ )?"
                 r"(?:hombres|tipos|personas|un|una|unos|unas|dos|tres|carro|camioneta|alguien|desde)\b|"
                 r"\bme sigue (?:un|una|alguien|el|la) (?:\w+ )?(?:hombre|tipo|carro|camioneta|senor|persona|"
                 r"muchacho|sujeto)\b|\bme (?:esta|estan) persiguiendo\b|\btemo por mi vida\b|"
                 r"\btengo (?:mucho )?miedo (?:de que|que) me (?:mate|maten|haga|hagan|lastime|pegue)\b",
     ("past", "howto", "online")),
)


def _build(lang: str, kind: SafetyKind, specs: Iterable[tuple[str, str, tuple[str, ...]]]) -> tuple[Rule, ...]:
    rules = []
    for name, pattern, vetoes in specs:
        unknown = set(vetoes) - set(VETOES)
        assert not unknown, f"{lang}.{name}: unknown veto groups {unknown}"
        rules.append(Rule(id=f"{lang}.{name}", kind=kind, pattern=re.compile(pattern), vetoes=vetoes))
    return tuple(rules)


# Crisis rules come first: crisis wins when both kinds match.
CRISIS_RULES: tuple[Rule, ...] = (_build("en", SafetyKind.CRISIS, _EN_CRISIS)
                                  + _build("es", SafetyKind.CRISIS, _ES_CRISIS))
EMERGENCY_RULES: tuple[Rule, ...] = (_build("en", SafetyKind.EMERGENCY, _EN_EMERGENCY)
                                     + _build("es", SafetyKind.EMERGENCY, _ES_EMERGENCY))
RULES: tuple[Rule, ...] = CRISIS_RULES + EMERGENCY_RULES
RULE_IDS: frozenset[str] = frozenset(rule.id for rule in RULES)
# Words the rules spell out: an elongated word ("shoooting", "dooor") is restored to one of them.
_VOCABULARY: frozenset[str] = frozenset(
    word
    for source in [p for specs in (_EN_CRISIS, _ES_CRISIS, _EN_EMERGENCY, _ES_EMERGENCY) for _, p, _ in specs]
    + [p for patterns in _VETO_SOURCES.values() for p in patterns] + [_PRESENT.pattern]
    for word in re.findall(r"[a-z]{2,}", source)
)
assert len(RULE_IDS) == len(RULES), "rule ids must be unique"


# -- normalisation -------------------------------------------------------------------------

_QUOTES = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u02bc": "'", "\u02b9": "'", "\uff07": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
})
_LINE_BREAKS = re.compile(r"[\n\r\x0b\x0c\x85\u2028\u2029]+")
_OD = re.compile(r"\bo\.?d'?(?:'d|d|ed)\b|\bo\.d\.\b")
# Digits and symbols standing for letters inside a word ("s0meone", "k1ll", "h3lp").
_LEET_LETTERS = {"0": "o", "1": "i", "3": "e", "4": "a", "@": "a", "$": "s", "5": "s", "7": "t"}
_LEET = re.compile(r"(?<=[a-z])[0134@$57](?=[a-z])")
_APOSTROPHE_IN_WORD = re.compile(r"(?<=\w)'(?=\w)")
_PUNCTUATION = re.compile(r"[^\w\s.!?;]|_")
_RUN_OF_LETTERS = re.compile(r"([^\W\d_])\1{2,}")
_ELONGATED_WORD = re.compile(r"\w*([^\W\d_])\1{2,}\w*")
_SPACES = re.compile(r"\s+")
_CLAUSE_BREAK = re.compile(r"\s*(?:[.!?;]+|\b(?:but|pero|oh wait|wait|anyway|anyways)\b)\s*")

# SMS shorthand and frequent misspellings, mapped to the spelling the rules use.
_SHORTHAND: dict[str, str] = {
    "pls": "please", "plz": "please", "plez": "please", "plse": "please", "pleas": "please", "pleaz": "please",
    "plis": "please", "pleasee": "please", "ppl": "people", "ppls": "people", "rn": "right now",
    "u": "you", "ur": "your", "r": "are", "n": "and", "thru": "through", "w": "with",
    "somone": "someone", "someon": "someone", "sombody": "somebody", "somebdy": "somebody", "sumone": "someone",
    "sum1": "someone", "some1": "someone", "smeone": "someone", "somene": "someone", "soemone": "someone",
    "someome": "someone", "somoene": "someone", "somones": "someones", "sumbody": "somebody",
    "gunn": "gun", "gunz": "guns", "gunns": "guns", "knif": "knife", "nife": "knife",
    "ambulence": "ambulance", "ambulanse": "ambulance", "amblance": "ambulance", "ambulnce": "ambulance",
    "ambalance": "ambulance", "ambulace": "ambulance", "ambulans": "ambulance", "amberlamps": "ambulance",
    "breakin": "breaking", "braking": "breaking", "brakin": "breaking", "brokin": "broken", "tryna": "trying to",
    "tryin": "trying", "trynna": "trying to", "gonna": "going to", "gona": "going to", "gunna": "going to",
    "finna": "going to", "wanna": "want to", "wana": "want to", "wnna": "want to",
    "chocked": "choked", "chocking": "choking", "breathin": "breathing", "breating": "breathing",
    "breahting": "breathing", "bleedin": "bleeding", "bleading": "bleeding", "fallowing": "following",
    "folowing": "following", "followin": "following", "hurtin": "hurting", "hittin": "hitting",
    "beatin": "beating", "shootin": "shooting", "shoting": "shooting", "robbin": "robbing", "robing": "robbing",
    "stabed": "stabbed", "stabing": "stabbing", "kidnaped": "kidnapped", "kidnaping": "kidnapping",
    "atacking": "attacking", "attakcing": "attacking", "unconcious": "unconscious", "unconsious": "unconscious",
    "overdosin": "overdosing", "odin": "overdosing", "oding": "overdosing", "od": "overdose",
    "suicidle": "suicidal", "sucidal": "suicidal", "suicidial": "suicidal", "suecidal": "suicidal",
    "suisidal": "suicidal", "suicdal": "suicidal", "suicde": "suicide", "sucide": "suicide",
    "suiside": "suicide", "suicid": "suicide", "myslef": "myself", "myslf": "myself", "mysef": "myself",
    "kil": "kill", "kilk": "kill", "polic": "police", "plice": "police", "poilce": "police",
    "nieghbor": "neighbor", "neighbour": "neighbor", "naybor": "neighbor", "neihbor": "neighbor",
    "emergancy": "emergency", "emergeny": "emergency", "emergecy": "emergency", "emergncy": "emergency",
    "hlp": "help", "hepl": "help", "halp": "help", "hellp": "help",
    # Spanish
    "porfa": "por favor", "porfavor": "por favor", "xfa": "por favor", "xfavor": "por favor",
    "porfis": "por favor", "xf": "por favor", "q": "que", "ke": "que", "k": "que", "polisia": "policia",
    "aki": "aqui", "aqi": "aqui", "orita": "ahorita", "ahoritita": "ahorita", "sta": "esta", "ay": "hay",
    "kasa": "casa", "kaza": "casa",
    "stan": "estan", "toy": "estoy", "ta": "esta", "kiero": "quiero", "qiero": "quiero",
    "kieren": "quieren", "qieren": "quieren", "kiere": "quiere", "qiere": "quiere", "auxlio": "auxilio",
    "auxiliio": "auxilio", "ausilio": "auxilio", "socoro": "socorro", "ayudenmen": "ayudenme",
    "ambulansia": "ambulancia", "ambulacia": "ambulancia",
    "amvulancia": "ambulancia", "sigiendo": "siguiendo", "ciguiendo": "siguiendo", "matarm": "matarme",
    "suisidarme": "suicidarme", "suicidarm": "suicidarme",
}
_SHORTHAND_WORDS = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, _SHORTHAND), key=len, reverse=True)) + r")\b")


def _strip_marks(text: str) -> str:
    """Drop accents, zero-width/format characters, controls and lone surrogates."""
    decomposed = unicodedata.normalize("NFKD", text)
    out = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        category = unicodedata.category(ch)
        if category == "Cf":  # zero-width space/joiner, BOM, soft hyphen, bidi marks
            continue
        if category in ("Cc", "Cs", "Co", "Cn"):
            out.append(" ")
            continue
        out.append(ch)
    return "".join(out)


def _normalize_until_runs(text: str, line_break: str = " . ") -> str:
    text = _LINE_BREAKS.sub(line_break, text)
    text = unicodedata.normalize("NFKC", text).casefold()
    if not text.isascii():
        text = _strip_marks(text)
    else:
        text = "".join(ch if ch >= " " and ch != "\x7f" else " " for ch in text)
    text = text.translate(_QUOTES)
    text = _LEET.sub(lambda m: _LEET_LETTERS[m.group(0)], text)
    text = _OD.sub(" overdosed ", text)
    text = _APOSTROPHE_IN_WORD.sub("", text)
    return _PUNCTUATION.sub(" ", text)


def _restore_word(match: re.Match[str]) -> str:
    """Shorten each run of 3+ letters to one or two, preferring a spelling the rules know."""
    word = match.group(0)
    runs = list(_RUN_OF_LETTERS.finditer(word))
    if len(runs) <= 4:
        for lengths in product((1, 2), repeat=len(runs)):
            pieces, end = [], 0
            for run, length in zip(runs, lengths):
                pieces.append(word[end:run.start()] + run.group(1) * length)
                end = run.end()
            candidate = "".join(pieces) + word[end:]
            if candidate in _VOCABULARY or candidate in _SHORTHAND:
                return candidate
    return _RUN_OF_LETTERS.sub(r"\1", word)


def _finish(text: str) -> str:
    text = _ELONGATED_WORD.sub(_restore_word, text)
    text = _SHORTHAND_WORDS.sub(lambda m: _SHORTHAND[m.group(0)], text)
    return _SPACES.sub(" ", text).strip()


def normalize(text: str) -> str:
    """The text the rules read (line breaks end a clause)."""
    return _finish(_normalize_until_runs(text))


def _variants(text: str) -> list[str]:
    """Every reading worth screening; any of them may flag the message.

    With line breaks, both a reading where they end a clause (a new line is often a new
    sentence, and must not carry a veto into the next one) and one where they do not (some
    residents press enter in the middle of a sentence: "i want to\ndie").
    """
    first = normalize(text)
    if not _LINE_BREAKS.search(text):
        return [first]
    second = _finish(_normalize_until_runs(text, line_break=" "))
    return [first] if second == first else [first, second]


def _clauses(text: str) -> list[str]:
    return [c for c in _CLAUSE_BREAK.split(text) if c]


# -- the screen ----------------------------------------------------------------------------

class SafetyScreen:
    """Screens one message; stateless, cheap, safe on any input.

    The rules first: a rule that fires is clear danger, unless the learned signal (when given,
    bot/safety_signal.py) finds the message plainly safe, which makes it possible danger, or
    surely safe (figurative or handled), which gives a normal answer. Where
    no rule fires, the signal's danger probability against the calibrated thresholds: clear,
    possible or safe. Without a signal (no trained model) the rules alone answer."""

    def __init__(self, signal: DangerSignal | None = None, thresholds: Thresholds | None = None) -> None:
        self._signal = signal
        self._thresholds = thresholds or Thresholds()

    @property
    def learned(self) -> bool:
        return self._signal is not None

    def screen(self, text: str) -> SafetyVerdict:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        if not text or text.isspace():
            return SAFE
        verdict = self.rules(text)
        if self._signal is not None:
            verdict = self._weighed(text, verdict)
        if verdict.kind is SafetyKind.CRISIS:
            return replace(verdict, about_other=about_someone_else(text))
        return verdict

    def rules(self, text: str) -> SafetyVerdict:
        variants = [(variant, _clauses(variant)) for variant in _variants(text)]
        for rules in (CRISIS_RULES, EMERGENCY_RULES):
            for rule in rules:
                for variant, clauses in variants:
                    for clause in clauses:
                        if rule.pattern.search(clause) and not _vetoed(rule, clause, variant):
                            return SafetyVerdict(kind=rule.kind, rule=rule.id)
        return SAFE

    def _weighed(self, text: str, by_rules: SafetyVerdict) -> SafetyVerdict:
        assert self._signal is not None
        score = self._signal.score(text)
        readable = len(normalize(text).split()) >= MIN_SIGNAL_WORDS
        if by_rules.kind is not None:
            if readable and score.danger < self._thresholds.rule_silence:
                return SAFE
            if score.danger < self._thresholds.rule_veto:
                return replace(by_rules, tier=SafetyTier.POSSIBLE, score=round(score.danger, 3))
            if score.kind is not by_rules.kind and max(score.emergency, score.crisis) >= KIND_SWITCH:
                # The rule's words, the signal's reading of the whole: "how many pills would it take
                # to not wake up" is a crisis (988), "he threatened to kill me" an emergency (911).
                return replace(by_rules, kind=score.kind, score=round(score.danger, 3))
            return by_rules
        if not readable:
            return SAFE  # "just me", "solo yo", "i dont know": a form's answer, too short to read danger in
        if score.danger >= self._thresholds.clear:
            tier = SafetyTier.CLEAR
        elif score.danger >= self._thresholds.possible:
            tier = SafetyTier.POSSIBLE
        else:
            return SAFE
        return SafetyVerdict(kind=score.kind, rule="signal", tier=tier, score=round(score.danger, 3))


# Someone else's crisis: the resident is helping a friend, a child, a partner. Read on the
# normalised text; the first person speaking of their own wish to die wins ("my friend says i
# should get help, i want to die" is the resident's own crisis).
_OTHER_PERSON = re.compile(
    rf"\b(?:my|our|his|her|a|the) (?:\w+ )?{_KIN}\b|\b(?:he|she|hes|shes|they|theyre|him)\b|"
    rf"\b(?:mi|mis|su|sus|un|una|el|la) (?:\w+ )?{_ES_FAMILIA}\b|\b(?:el|ella|ellos)\b"
)
_OWN_CRISIS = re.compile(
    r"\b(?:i|im|i am|me|myself|ive|i have|i feel|i dont|i cant|i wanna|i want|i will|i wont|ill)\b.{0,40}"
    r"\b(?:die|dying|dead|kill|end it|end my|suicide|suicidal|hurt myself|cut|cutting|live|alive|anymore|"
    r"overdose|pills|jump|better off|disappear|goodbye|no point)\b|"
    r"\b(?:me quiero|quiero|me voy a|yo)\b.{0,40}\b(?:morir|matar|suicidar|desaparecer|cortar|vivir)\b|"
    r"\bya no (?:aguanto|puedo mas|quiero vivir)\b|\bmyself\b|\bmi vida\b"
)


def about_someone_else(text: str) -> bool:
    """True when the crisis described is another person's (see `_OTHER_PERSON`)."""
    normal = normalize(text)
    return bool(_OTHER_PERSON.search(normal)) and not _OWN_CRISIS.search(normal)


def _vetoed(rule: Rule, clause: str, message: str) -> bool:
    """True when safe context in the clause (or, for hoaxes, anywhere) silences the match."""
    present: bool | None = None
    for group in rule.vetoes:
        scope = message if group in _MESSAGE_WIDE else clause
        if not any(p.search(scope) for p in VETOES[group]):
            continue
        if group in _OVERRIDABLE:
            if present is None:
                present = _PRESENT.search(clause) is not None
            if present:
                continue
        return True
    return False

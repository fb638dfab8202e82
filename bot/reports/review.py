"""Suspicious-activity descriptions that give only what someone looks like.

Police guidance on bias-free reporting: a report should say what the person did (tried car
doors, looked into windows, carried things out of a house), where, when, and any vehicle.
A description that gives race, skin colour or clothing and no behaviour is not something
to dispatch on: the form asks once more for behaviour, and if the answer still has none,
the report is kept for staff review instead of being forwarded.
"""
from __future__ import annotations

import re

from bot.reports.places import fold_in_place

REVIEW_APPEARANCE_ONLY = "appearance only, no behaviour described"
TYPES_CHECKED = frozenset({"suspicious_activity", "drug_activity"})

_APPEARANCE = re.compile(r"\b(?:" + "|".join((
    r"black", r"white", r"brown", r"hispanic", r"latin[oax]s?", r"mexican", r"asian", r"arab", r"middle eastern",
    r"african", r"indian", r"native", r"chinese", r"gypsy", r"(?:dark|light)[- ]skinned", r"skin", r"race",
    r"ethnic", r"foreign(?:er)?", r"immigrants?", r"illegals?", r"homeless(?:[- ]looking)?", r"ghetto", r"thug",
    r"hood(?:ie|y)s?", r"tattoo(?:s|ed)?", r"dreads", r"dreadlocks", r"baggy", r"sagging", r"wearing",
    r"dressed", r"clothes", r"(?:look(?:s|ed|ing)?|seem(?:s|ed)?) (?:like|sketchy|suspicious|shady|out of place)",
    r"sketchy[- ]looking", r"(?:does ?n[o']?t|did ?n[o']?t|didn't|doesn't) (?:belong|live here|look like)",
    r"not from (?:here|around here)", r"out of place",
    r"negr[oa]s?", r"morenos?", r"morenas?", r"blanc[oa]s?", r"hispan[oa]s?", r"mexican[oa]s?", r"asiatic[oa]s?",
    r"extranjer[oa]s?", r"tatuad[oa]s?", r"tatuajes?", r"capucha", r"vestid[oa]s?", r"ropa", r"piel",
    r"(?:parec|se ve)(?:e|ia|ian) (?:sospechos[oa]s?|raro|rara|extranjer[oa]s?)", r"no es de aqui", r"no son de aqui",
)) + r")\b")

_BEHAVIOUR = re.compile(r"\b(?:" + "|".join((
    r"tr(?:y|ied|ying)", r"check(?:ed|ing)?", r"pull(?:ed|ing)?", r"(?:look|looked|looking|peer\w*|peek\w*) (?:in|into|through)",
    r"break\w*", r"broke", r"smash\w*", r"pr(?:y|ied|ying)", r"forc\w+", r"climb\w*", r"jump\w*", r"hid(?:e|ing)",
    r"took", r"tak(?:e|ing)", r"stole", r"steal\w*", r"carr(?:y|ied|ying)", r"load\w*", r"follow\w*", r"knock\w*",
    r"ring(?:ing)? (?:the )?doorbells?", r"photograph\w*", r"film\w*", r"cas(?:e|ed|ing)", r"sell\w*", r"deal\w*",
    r"hand(?:ed|ing)", r"exchang\w+", r"fight\w*", r"yell\w*", r"threat\w*", r"shout\w*", r"tamper\w*",
    r"enter(?:ed|ing)?", r"went (?:in|into|through)", r"ran", r"running", r"spray\w*", r"dump\w*", r"circl\w+",
    r"driv(?:e|ing|en)", r"drove", r"parked", r"idling", r"wait(?:ed|ing)", r"watch(?:ed|ing)", r"door ?handles?",
    r"windows?", r"garage", r"mailbox\w*", r"packages?", r"plates?", r"car", r"van", r"truck", r"vehicle",
    r"intent\w+", r"abrie\w*", r"abrio", r"intent\w*", r"romp\w*", r"rob\w*", r"vend\w*", r"sub\w+ (?:a|al|la)",
    r"saltar\w*", r"salto", r"miran?do (?:por|adentro)", r"mir(?:o|aba|aban) (?:por|adentro)", r"ventanas?",
    r"puertas?", r"carro", r"coche", r"camioneta", r"placas?", r"manej\w+", r"estacion\w+", r"segu\w+",
    r"tocando", r"toc(?:o|aba)", r"cargando", r"llev\w+", r"gritando", r"pelea\w*",
)) + r")\b")


def appearance_only(description: str) -> bool:
    """True when the words describe how someone looks and nothing they did."""
    folded = fold_in_place(description or "").lower()
    return bool(_APPEARANCE.search(folded)) and not _BEHAVIOUR.search(folded)


def review_reason(report_type: str, description: str) -> str | None:
    """Why a report must wait for staff before it goes anywhere, or None."""
    if report_type in TYPES_CHECKED and appearance_only(description):
        return REVIEW_APPEARANCE_ONLY
    return None

"""SMS consent keywords, matched the way carriers and Twilio match them.

Twilio handles the opt-out words itself and still forwards them to us; after an opt-out,
any message to that number fails (error 21610). So we keep our own ledger, and every
outbound path checks it (see bot/outbound.py).
"""
from __future__ import annotations

from enum import Enum

OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
# YES opts back in only for a number that is opted out; otherwise it is an ordinary "yes".
CONDITIONAL_OPT_IN_WORDS = frozenset({"YES"})


class ConsentKeyword(str, Enum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


def classify(text: str | None, opted_out: bool) -> ConsentKeyword | None:
    """Whole trimmed message, case-insensitive; anything longer is not a keyword."""
    word = (text or "").strip().upper()
    if word in OPT_OUT_WORDS:
        return ConsentKeyword.OPT_OUT
    if word in OPT_IN_WORDS or (opted_out and word in CONDITIONAL_OPT_IN_WORDS):
        return ConsentKeyword.OPT_IN
    if word in HELP_WORDS:
        return ConsentKeyword.HELP
    return None

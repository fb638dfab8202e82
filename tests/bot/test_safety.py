"""The deterministic safety screen against the labelled cases of tests/data/safety_cases.yml.

Misses are not allowed: every emergency and crisis case must be flagged with its kind. False
alarms have a budget: at most 3% of the safe cases. Needs no fixtures (runs with --noconftest).
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.safety import RULE_IDS, SafetyKind, SafetyScreen, SafetyVerdict, normalize

CASES_FILE = Path(__file__).resolve().parents[1] / "data" / "safety_cases.yml"
CASES: dict[str, list[str]] = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))

EXPECTED: dict[str, SafetyKind | None] = {
    "emergency": SafetyKind.EMERGENCY, "emergency_es": SafetyKind.EMERGENCY,
    "crisis": SafetyKind.CRISIS, "crisis_es": SafetyKind.CRISIS,
    "safe": None, "safe_es": None,
}
FLAGGED_KEYS = ("emergency", "emergency_es", "crisis", "crisis_es")
SAFE_KEYS = ("safe", "safe_es")
MAX_FALSE_ALARM_RATE = 0.03

SCREEN = SafetyScreen()


def _cases(*keys: str) -> list[tuple[str, str]]:
    return [(key, text) for key in keys for text in CASES[key]]


# -- the test set itself ----------------------------------------------------------------

def test_case_file_has_exactly_the_known_keys() -> None:
    assert set(CASES) == set(EXPECTED)
    for key, texts in CASES.items():
        assert texts and all(isinstance(t, str) and t.strip() for t in texts), key


def test_case_file_is_big_enough_in_both_languages() -> None:
    flagged = sum(len(CASES[k]) for k in FLAGGED_KEYS)
    safe = sum(len(CASES[k]) for k in SAFE_KEYS)
    assert flagged >= 100 and safe >= 100
    assert len(CASES["crisis"]) + len(CASES["crisis_es"]) >= 25
    assert len(CASES["crisis"]) >= 25  # English alone, too
    assert len(CASES["emergency_es"]) + len(CASES["crisis_es"]) >= 40
    assert len(CASES["safe_es"]) >= 40


def test_no_message_is_labelled_twice() -> None:
    seen: dict[str, str] = {}
    for key, texts in CASES.items():
        for text in texts:
            other = seen.setdefault(normalize(text), key)
            assert other == key, f"{text!r} is both {other} and {key}"


# -- no misses ----------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "text"), _cases(*FLAGGED_KEYS), ids=lambda v: v[:60] if isinstance(v, str) else v)
def test_every_emergency_and_crisis_case_is_flagged_with_its_kind(key: str, text: str) -> None:
    verdict = SCREEN.screen(text)
    assert verdict.kind is EXPECTED[key], f"{key}: {text!r} -> {verdict}"
    assert verdict.flagged


# -- false alarms within budget -----------------------------------------------------------

def test_false_alarm_rate_on_safe_cases_is_at_most_3_percent() -> None:
    safe = _cases(*SAFE_KEYS)
    flagged = [(key, text, SCREEN.screen(text)) for key, text in safe]
    flagged = [(key, text, v) for key, text, v in flagged if v.flagged]
    for key, text, verdict in flagged:
        print(f"false alarm [{key}] {verdict.rule}: {text!r}")
    rate = len(flagged) / len(safe)
    print(f"false alarms: {len(flagged)}/{len(safe)} = {rate:.1%}")
    assert rate <= MAX_FALSE_ALARM_RATE


@pytest.mark.parametrize("text", ["help", "HELP", "Help", " help ", "help?", "ayuda", "AYUDA", "Ayuda.", "info",
                                  "INFO", "menu", "stop", "start", "hola", "hi"])
def test_bare_keywords_are_not_flagged(text: str) -> None:
    """A bare HELP/AYUDA/INFO is the SMS keyword or a menu request, not a plea."""
    assert SCREEN.screen(text) == SafetyVerdict(kind=None, rule=None)


@pytest.mark.parametrize("text", ["help me", "someone help", "help help", "somebody help me", "auxilio", "socorro",
                                  "ayudenme", "sos"])
def test_pleas_are_flagged(text: str) -> None:
    assert SCREEN.screen(text).kind is SafetyKind.EMERGENCY


def test_crisis_wins_when_both_match() -> None:
    for text in ["there's a man with a gun outside and honestly i want to kill myself",
                 "hay un hombre con pistola afuera y yo ya no quiero vivir",
                 "someone is breaking in. i want to die"]:
        verdict = SCREEN.screen(text)
        assert verdict.kind is SafetyKind.CRISIS, (text, verdict)


def test_danger_at_the_end_of_a_long_message_is_caught() -> None:
    chatter = "I wanted to ask about the neighborhood watch meeting and the citizen academy class. " * 150
    assert len(chatter) > 10_000
    assert SCREEN.screen(chatter + "oh wait there is a man with a gun in my yard").kind is SafetyKind.EMERGENCY
    assert SCREEN.screen(chatter).kind is None


# -- robustness ----------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", " ", "   \n\t  ", "\u200b\u200b", "\x00", "\ud800", "\udfff\ud800",
                                  "😀", "🚓🚨🚒", "😀" * 500, "x" * 10_000, "a " * 10_000, "help\n" * 3000,
                                  "\u0301\u0301\u0301", "!!!???...", "911" * 4000, "ａ" * 12_000])
def test_odd_input_never_crashes_and_empty_input_is_safe(text: str) -> None:
    verdict = SCREEN.screen(text)
    assert isinstance(verdict, SafetyVerdict)
    if not text.strip() or text.strip("\u200b\x00") == "":
        assert not verdict.flagged


def test_emoji_only_message_is_safe() -> None:
    assert not SCREEN.screen("😀😀👍").flagged
    assert not SCREEN.screen("🔫").flagged  # an emoji alone says too little


@pytest.mark.parametrize("text", [
    "some\u200bone is break\u200bing into my house",  # zero-width spaces
    "\ufeffsomeone\u2060 is\u200d breaking in",  # BOM, word joiner, zero-width joiner
    "ｓｏｍｅｏｎｅ　ｉｓ　ｂｒｅａｋｉｎｇ　ｉｎｔｏ　ｍｙ　ｈｏｕｓｅ",  # fullwidth letters and spaces
    "SOMEONE IS BREAKING INTO MY HOUSE",
    "someone is breakiiiing into my house!!!!",
    "s0me0ne is breaking in",
    "someone\x00 is\x07 breaking in \ud800",  # control characters and a lone surrogate
    "he\u2019s got a gun",  # smart quote
    "polic\u00eda, hay un hombre con pistola",
    "policia hay un hombre con pistola",
    "hay un hombre con pisto\u0301la",  # stray combining accent
])
def test_obfuscated_emergencies_are_still_caught(text: str) -> None:
    assert SCREEN.screen(text).kind is SafetyKind.EMERGENCY


def test_normalize_flattens_what_residents_and_phones_do_to_text() -> None:
    assert normalize("  Ｈｅｌｌｏ\u200b   THERE’s  ") == "hello theres"
    assert normalize("Policía AUXILIO señor") == "policia auxilio senor"
    assert normalize("helppppp pls rn") == "help please right now"
    assert normalize("shoooooting at the dooor") == "shooting at the door"
    assert normalize("somone breakin in w/ a gunn") == "someone breaking in with a gun"


# -- the verdict ---------------------------------------------------------------------------

def test_verdict_is_frozen_and_holds_no_text() -> None:
    assert [f.name for f in dataclasses.fields(SafetyVerdict)] == ["kind", "rule", "tier", "about_other", "score"]
    verdict = SCREEN.screen("someone is breaking into my house right now")
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.kind = None  # type: ignore[misc]
    assert SafetyVerdict(kind=None, rule=None).flagged is False
    assert SafetyVerdict(kind=SafetyKind.CRISIS, rule="en.kill_myself").flagged is True
    assert SafetyKind.EMERGENCY.value == "emergency" and SafetyKind.CRISIS.value == "crisis"


def test_verdict_never_carries_the_message_text() -> None:
    for key, text in _cases(*EXPECTED):
        verdict = SCREEN.screen(text)
        assert (verdict.kind is None) == (verdict.rule is None)
        assert verdict.rule is None or verdict.rule in RULE_IDS
        if len(text) >= 12:
            assert text.casefold() not in repr(verdict).casefold()


def test_rule_ids_are_language_dot_name() -> None:
    assert RULE_IDS
    for rule_id in RULE_IDS:
        language, _, name = rule_id.partition(".")
        assert language in ("en", "es") and name and name.replace("_", "").isalnum(), rule_id


# -- property tests -----------------------------------------------------------------------

ODD_CHARACTERS = ["\ud800", "\udbff", "\udc00", "\udfff", "\u200b", "\u200d", "\ufeff", "\u2060", "\x00", "\x1b",
                  "\u0301", "\u0303", "ａ", "Ｈ", "’", "“", "\u2028", "\n", "\r", "💀", "🔫", "ñ", "İ", "ß", "ﬁ"]
ANY_TEXT = st.text(alphabet=st.one_of(st.characters(codec=None), st.sampled_from(ODD_CHARACTERS)), max_size=300)
# Words the rules care about, in any order, to reach deep into the patterns.
WORDS = st.sampled_from(["someone", "is", "breaking", "in", "my", "house", "help", "me", "gun", "with", "a",
                         "not", "breathing", "last", "night", "how", "do", "i", "report", "class", "kill", "myself",
                         "me", "quiero", "morir", "de", "risa", "hay", "alguien", "en", "casa", "fire", "on",
                         "right", "now", "rn", "pls", "ppl", "'", ".", "!!!", "\n", "lol", "shooting", "911"])
WORD_SOUP = st.lists(WORDS, max_size=40).map(" ".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), ANY_TEXT, WORD_SOUP))
def test_screen_never_raises_and_always_returns_a_verdict(text: str) -> None:
    verdict = SCREEN.screen(text)
    assert isinstance(verdict, SafetyVerdict)
    assert (verdict.kind is None) == (verdict.rule is None)
    assert verdict.rule is None or verdict.rule in RULE_IDS


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT)
def test_an_emergency_sentence_is_caught_whatever_comes_before_it(prefix: str) -> None:
    verdict = SCREEN.screen(prefix + ". someone is breaking into my house right now")
    assert verdict.flagged


# -- rough speed (printed, never asserted) ---------------------------------------------------

def test_rough_speed_is_reported() -> None:
    texts = [text for _, text in _cases(*EXPECTED)]
    start = time.perf_counter()
    rounds = 5
    for _ in range(rounds):
        for text in texts:
            SCREEN.screen(text)
    per_message = (time.perf_counter() - start) / (rounds * len(texts))
    long_text = "we would like to know more about the neighborhood programs " * 170
    start = time.perf_counter()
    SCREEN.screen(long_text)
    print(f"safety screen: {per_message * 1e6:.0f} us per labelled message; "
          f"{(time.perf_counter() - start) * 1e3:.1f} ms for {len(long_text)} characters")

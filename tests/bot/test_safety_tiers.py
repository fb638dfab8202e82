"""The safety screen's tiers: the rules, the learned signal and the calibrated thresholds
(bot/safety.py, bot/safety_signal.py). A scripted signal pins the decision logic; the trained
signal (models/safety.pkl, trained from data/ by `make model`) is checked on messages of the
evaluation sets' dev split (tests/eval/dev/), the part tuning may look at."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bot.safety import DangerScore, SafetyKind, SafetyScreen, SafetyTier, Thresholds, about_someone_else
from bot.safety_signal import process_signal, sentences, training_examples
from bot.settings import ROOT, Settings

THRESHOLDS = Thresholds(clear=0.9, possible=0.6, rule_veto=0.2)


class ScriptedSignal:
    """Says what the test wants: danger `score` of `kind` for every message."""

    def __init__(self, emergency: float, crisis: float = 0.0) -> None:
        self._score = DangerScore(emergency, crisis)
        self.seen: list[str] = []

    def score(self, text: str) -> DangerScore:
        self.seen.append(text)
        return self._score


def test_a_rule_that_fires_is_clear_danger_when_the_signal_agrees() -> None:
    verdict = SafetyScreen(ScriptedSignal(0.8), THRESHOLDS).screen("someone is breaking into my house right now")
    assert verdict.flagged and verdict.kind is SafetyKind.EMERGENCY and verdict.rule != "signal"


def test_a_rule_that_fires_on_a_message_the_signal_finds_plainly_safe_is_only_possible_danger() -> None:
    verdict = SafetyScreen(ScriptedSignal(0.05), THRESHOLDS).screen("someone is breaking into my house right now")
    assert verdict.possible and not verdict.flagged and verdict.tier is SafetyTier.POSSIBLE
    assert verdict.event == "possible_emergency" and verdict.score == 0.05


def test_a_rule_that_fires_on_a_message_the_signal_is_sure_is_safe_gives_a_normal_answer() -> None:
    thresholds = Thresholds(clear=0.9, possible=0.6, rule_veto=0.2, rule_silence=0.1)
    text = "mi jefe me va a ahorcar si llego tarde otra vez"  # the threat rule's words, figuratively
    assert SafetyScreen().screen(text).flagged  # the rules alone
    assert SafetyScreen(ScriptedSignal(0.05), thresholds).screen(text).kind is None
    assert SafetyScreen(ScriptedSignal(0.15), thresholds).screen(text).possible
    # Too short for the signal to read: the rule still gives a safety answer.
    assert SafetyScreen(ScriptedSignal(0.01), thresholds).screen("fire!!").kind is SafetyKind.EMERGENCY


@pytest.mark.parametrize("danger, tier", [(0.95, SafetyTier.CLEAR), (0.9, SafetyTier.CLEAR), (0.7, SafetyTier.POSSIBLE),
                                          (0.6, SafetyTier.POSSIBLE), (0.59, None), (0.0, None)])
def test_where_no_rule_fires_the_signal_decides_by_the_thresholds(danger: float, tier: SafetyTier | None) -> None:
    verdict = SafetyScreen(ScriptedSignal(danger), THRESHOLDS).screen("my dad is on the floor and won't answer me")
    assert (verdict.tier if verdict.kind else None) is tier
    assert verdict.rule == ("signal" if tier else None)


def test_the_signal_names_the_kind_it_finds_more_likely() -> None:
    verdict = SafetyScreen(ScriptedSignal(0.1, 0.85), THRESHOLDS).screen("nobody would notice if i was gone")
    assert verdict.flagged and verdict.kind is SafetyKind.CRISIS and verdict.event == "crisis"


def test_without_a_signal_the_rules_alone_answer() -> None:
    screen = SafetyScreen()
    assert not screen.learned
    assert screen.screen("hay un hombre con una pistola en mi casa ahorita").flagged
    assert screen.screen("my dad is on the floor and won't answer me").kind is None


def test_empty_messages_never_reach_the_signal() -> None:
    signal = ScriptedSignal(1.0)
    screen = SafetyScreen(signal, THRESHOLDS)
    assert screen.screen("").kind is None and screen.screen("   ").kind is None and signal.seen == []


@pytest.mark.parametrize("text", [
    "my friend posted goodbye everyone and now he won't answer his phone",
    "mi hija de 14 dice que se quiere morir",
    "my son says he wants to kill himself",
])
def test_someone_elses_crisis_is_told_apart(text: str) -> None:
    assert about_someone_else(text)


@pytest.mark.parametrize("text", ["i want to die", "my friend says i need help but i want to end it",
                                  "ya no quiero vivir", "i'm going to hurt myself"])
def test_the_residents_own_crisis_is_not_someone_elses(text: str) -> None:
    assert not about_someone_else(text)


def test_thresholds_load_from_their_file_and_fall_back_when_it_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "thresholds.json"
    path.write_text(json.dumps({"clear": 0.97, "possible": 0.5, "rule_veto": 0.1, "rule_silence": 0.05}))
    assert Thresholds.load(path) == Thresholds(clear=0.97, possible=0.5, rule_veto=0.1, rule_silence=0.05)
    assert Thresholds.load(tmp_path / "missing.json") == Thresholds()
    path.write_text("{not json")
    assert Thresholds.load(path) == Thresholds()


def test_the_shipped_thresholds_are_ordered() -> None:
    shipped = Thresholds.load(Settings().safety_thresholds)
    assert 0.0 <= shipped.rule_silence <= shipped.rule_veto < shipped.possible <= shipped.clear < 1.0


def test_a_long_message_is_also_read_sentence_by_sentence() -> None:
    text = "what time is the town hall tomorrow? also a man just pulled a knife on my brother outside"
    parts = sentences(text)
    assert parts[0] == text and any("knife" in p and "town hall" not in p for p in parts[1:])
    assert sentences("short one") == ["short one"]


def test_a_short_piece_of_a_long_message_is_read_only_with_the_rest() -> None:
    # Alone, "siempre es lo mismo" reads like hopelessness; in this story it is about fireworks.
    text = "anoche tronaron cohetes hasta bien tarde y mi perro se escondio debajo de la cama. siempre es lo mismo"
    assert all("siempre es lo mismo" != p for p in sentences(text))


def test_training_examples_come_from_data_safety_and_every_nlu_intent_as_safe() -> None:
    examples = training_examples(ROOT / "data")
    labels = {label for _, label in examples}
    assert labels == {"safe", "emergency", "crisis"}
    texts = {text for text, _ in examples}
    assert "i want to go to a meeting" not in {t for t, label in examples if label != "safe"}
    assert not any("](" in t or "]{" in t for t in texts)  # Rasa's entity markup is stripped


# -- the trained signal, on dev-split messages ------------------------------------------------

@pytest.fixture(scope="module")
def screen() -> SafetyScreen:
    settings = Settings()
    return SafetyScreen(process_signal(ROOT / "data", settings.safety_model), Thresholds.load(settings.safety_thresholds))


def _dev(name: str) -> list[dict]:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "tests" / "eval" / "dev" / f"{name}.yml").read_text(encoding="utf-8"))["cases"]


def test_no_everyday_request_of_the_dev_split_gets_a_safety_answer(screen: SafetyScreen) -> None:
    """The regression set: meetings, joining, help with a report, greetings, in both languages."""
    flagged = [c["text"] for c in _dev("everyday") if screen.screen(c["text"]).kind is not None]
    assert not flagged, flagged


@pytest.mark.parametrize("text", ["i want to go to a meeting", "i'd like to go to a meeting", "i want to join",
                                  "quiero ir a una reunion", "me quiero unir al grupo de vigilancia",
                                  "can you help me make a report"])
def test_the_requests_that_once_got_the_crisis_answer_are_safe(screen: SafetyScreen, text: str) -> None:
    assert screen.screen(text).kind is None


@pytest.mark.parametrize("text, kind", [
    ("there's a toddler in a diaper walking along the shoulder of Route 9 by the Gas n Go, nobody with him", "emergency"),
    ("se cayo un cable de luz en la calle Pino y esta echando chispas, hay niños jugando cerca", "emergency"),
    ("grandma fell in the bathtub, she can't get up and she's crying that her hip hurts", "emergency"),
    ("i'm standing on the Harbor View bridge right now", "crisis"),
    ("whats the lethal dose of my sertraline, i have a full bottle", "crisis"),
    ("mi mama anda muy mal desde que murio mi papa, dice que ya se quiere ir con el y que no le ve sentido a vivir", "crisis"),
])
def test_dev_split_dangers_the_rules_do_not_name_are_caught_with_their_kind(screen: SafetyScreen, text: str,
                                                                           kind: str) -> None:
    verdict = screen.screen(text)
    assert verdict.kind is not None and verdict.kind.value == kind, verdict


@pytest.mark.parametrize("text", [
    "fire dept already put out the dumpster fire behind our store. who do I talk to about getting a report for the landlord",
    "hubo un incendio en el edificio de al lado el martes, ya lo apagaron. donde pueden ir las familias que se quedaron sin casa",
    "thank u for the coffee with a cop event it was nice!!",
])
def test_handled_and_past_events_are_not_taken_over(screen: SafetyScreen, text: str) -> None:
    assert not screen.screen(text).flagged


def test_a_rules_kind_gives_way_when_the_signal_is_sure_of_the_other() -> None:
    text = "someone is breaking into my house right now"  # an emergency rule
    assert SafetyScreen(ScriptedSignal(0.1, 0.8), THRESHOLDS).screen(text).kind is SafetyKind.CRISIS
    assert SafetyScreen(ScriptedSignal(0.3, 0.5), THRESHOLDS).screen(text).kind is SafetyKind.EMERGENCY  # not sure
    assert SafetyScreen(ScriptedSignal(0.9, 0.05), THRESHOLDS).screen(text).kind is SafetyKind.EMERGENCY


@pytest.mark.parametrize("text", ["just me", "solo yo", "hes back", "2 adults"])
def test_the_signal_alone_never_decides_on_a_message_of_one_or_two_words(text: str) -> None:
    assert SafetyScreen(ScriptedSignal(0.99), THRESHOLDS).screen(text).kind is None


@pytest.mark.parametrize("text", ["help me", "fire!!", "auxilio", "im bleeding"])
def test_a_rule_still_answers_a_short_message(text: str) -> None:
    verdict = SafetyScreen(ScriptedSignal(0.5), THRESHOLDS).screen(text)
    assert verdict.flagged and verdict.kind is SafetyKind.EMERGENCY and verdict.rule != "signal"

"""The learned safety signal: a classifier that reads danger beyond the rules' words.

The readable rules (bot/safety.py) catch what their patterns name; residents describe danger
in endless other ways ("my dad is on the kitchen floor and isn't answering"). This classifier,
trained on thousands of varied messages per kind in English and Spanish (data/safety/, written
apart from the evaluation sets) and on every training example of the assistant's everyday
intents (data/nlu/, as safe), gives the probability that a message describes danger now
(emergency: 911) or a suicidal crisis (988).

Why a dedicated model and not Rasa's intents: the NLU is trained to tell FAQs apart, and one
of its intents, wrongly ranked, must never take a conversation over ("i want to go to a
meeting" once got the 988 answer). This model sees only one question, is calibrated on
held-out data into thresholds (bot/safety.py turns them into tiers), and runs in the worker
with Rasa down.

The classifier is bot/text_classifier.py's, over the same normalised text the rules read. A
long message is also scored sentence by sentence, because danger buried after a normal
question would be diluted in the whole.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from bot.safety import DangerScore, normalize
from bot.text_classifier import TextClassifier, load_or_train, nlu_examples
from bot.text_classifier import fingerprint as data_fingerprint

LABELS = ("safe", "emergency", "crisis")
FORMAT_VERSION = "safety-signal-1"  # bump when what is trained on changes: cached models retrain
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+|\s+(?:also|btw|and also|oh and|pero|tambien|ademas)\s+", re.IGNORECASE)
MIN_SENTENCE_WORDS = 6  # a shorter piece of a long message is scored only as part of the whole: alone,
# "siempre es lo mismo" or "sorry for the long message" read as a crisis (chosen on the dev split:
# 4 -> 6 took 5 of 452 safe dev messages out of a safety answer and lost no danger)
# Intents whose training examples are not safe messages (none today: Rasa has no safety intent).
_NOT_SAFE_INTENTS = frozenset({"emergency", "crisis"})


NO_DANGER = DangerScore(0.0, 0.0)


def _nlu_examples(path: Path) -> Iterable[tuple[str, str]]:
    for example in nlu_examples(path):
        if example.text:
            yield example.text, example.intent if example.intent in _NOT_SAFE_INTENTS else "safe"


def _text_examples(path: Path) -> Iterable[tuple[str, str]]:
    label = path.name.split(".", 1)[0]
    if label not in LABELS:
        raise ValueError(f"{path}: the file name must start with one of {', '.join(LABELS)}")
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if text and not text.startswith("#"):
            yield text, label


def training_files(data_dir: Path) -> list[Path]:
    """data/safety/<label>.<lang>.txt (one message per line) and every data/nlu/*.yml."""
    return sorted((data_dir / "safety").glob("*.txt")) + sorted((data_dir / "nlu").glob("*.yml"))


def training_examples(data_dir: Path) -> list[tuple[str, str]]:
    examples: list[tuple[str, str]] = []
    for path in training_files(data_dir):
        examples.extend(_text_examples(path) if path.suffix == ".txt" else _nlu_examples(path))
    return examples


def fingerprint(data_dir: Path) -> str:
    return data_fingerprint(training_files(data_dir), salt=FORMAT_VERSION)


def sentences(text: str) -> list[str]:
    """The message and, when it is long, each of its sentences (see the module docstring)."""
    parts = [p.strip() for p in _SENTENCE.split(text) if p and p.strip()]
    parts = [p for p in parts if len(p.split()) >= MIN_SENTENCE_WORDS]
    return [text] + parts if len(parts) > 1 else [text]


class SafetySignal:
    """A trained classifier; `score` is cheap (about a millisecond for a short message)."""

    def __init__(self, classifier: TextClassifier) -> None:
        self._classifier = classifier
        self.fingerprint = classifier.fingerprint

    def score(self, text: str) -> DangerScore:
        if not text or not text.strip():
            return NO_DANGER
        rows = self._classifier.probabilities(sentences(text[:2000]))
        row = max(rows, key=lambda r: r["emergency"] + r["crisis"])
        return DangerScore(row["emergency"], row["crisis"])


def train_from(data_dir: Path) -> SafetySignal:
    classifier = TextClassifier.train(training_examples(data_dir), normalize, fingerprint(data_dir))
    return SafetySignal(classifier)


def process_signal(data_dir: Path, path: Path) -> SafetySignal:
    """The signal trained on today's data: models/ when it is current, else trained now (seconds)."""
    classifier = load_or_train(path, fingerprint(data_dir),
                               lambda: TextClassifier.train(training_examples(data_dir), normalize))
    return SafetySignal(classifier)

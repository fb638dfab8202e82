"""Which kind of report a resident's story is, when the words do not name it, and whether it
is a report at all.

"every night at 1am the house on birch blasts music" is a noise report though it never says
"noise". Rasa's entity extractor finds a type only where the training data marked a span;
residents tell stories. This classifier reads the whole message: trained on every report
example of data/nlu/ (the stories whose blocks carry the type as metadata, and the examples
whose report_type entity gives it), and on every other intent's examples as `not_report`.
The form asks for the type only when the classifier is not sure of it; a message the NLU took
for a report that reads as no report ("how do i make frijoles charros", "is the light rail
late") gets "Did you mean ...?" instead of a form: a second opinion that asks rather than
refuses (measured on the evaluation sets' dev split: 1 story of 120 asked, 93% of the
out-of-domain messages caught).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from bot.meetings.filters import fold
from bot.text_classifier import TextClassifier, fingerprint, load_or_train, nlu_examples

OTHER_TYPE = "other"
REPORT_TYPES = ("suspicious_activity", "noise", "abandoned_vehicle", "graffiti", "vandalism", "traffic_hazard",
                "illegal_parking", "drug_activity", "theft", OTHER_TYPE)
NOT_REPORT = "not_report"
UNSPECIFIED = "unspecified"  # a report that names no type yet ("i need to report something")
SALT = "report-kinds-3"
# Below this probability (given a report) the form asks (a numbered menu) instead of guessing:
# chosen on the dev split (0.3: 111 of 120 stories typed right, 8 wrong; 0.4: 108 and 5).
MIN_CONFIDENCE = 0.3
# At or above this probability of `not_report` a message is not taken for a report.
NOT_REPORT_THRESHOLD = 0.5
_NOT_REPORT_INTENTS = frozenset({"report_incident", "check_report_status"})  # the intents that are not negatives
_VALUE = re.compile(r'"entity"\s*:\s*"report_type"\s*,\s*"value"\s*:\s*"(\w+)"')
_SPAN = re.compile(r"\[([^\]]*)\](?:\(([^)]*)\)|\{([^}]*)\})")


def _label_of(line: str) -> str | None:
    found = _VALUE.search(line)
    if found and found.group(1) in REPORT_TYPES:
        return found.group(1)
    for match in _SPAN.finditer(line):
        if match.group(2) and ":" in match.group(2):  # [tagging](report_type:graffiti)
            entity, _, value = match.group(2).partition(":")
            if entity == "report_type" and value in REPORT_TYPES:
                return value
    return None


def _examples(path: Path) -> Iterable[tuple[str, str]]:
    for example in nlu_examples(path):
        if example.intent == "report_incident":
            kind = example.metadata.get("report_type")
            label = kind if kind in REPORT_TYPES else (_label_of(example.line) or UNSPECIFIED)
        else:
            label = None if example.intent in _NOT_REPORT_INTENTS else NOT_REPORT
        if label:
            yield example.text, label


def training_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "nlu").glob("*.yml"))


def training_examples(data_dir: Path) -> list[tuple[str, str]]:
    return [example for path in training_files(data_dir) for example in _examples(path)]


def _read(text: str) -> str:
    return " ".join(fold(text).split())


@dataclass(frozen=True)
class KindReading:
    kind: str  # the most likely report type
    confidence: float  # its probability given that the message is a report (a report may name none)
    not_report: float  # the probability that the message is no report at all

    @property
    def sure(self) -> bool:
        return self.confidence >= MIN_CONFIDENCE

    @property
    def is_report(self) -> bool:
        return self.not_report < NOT_REPORT_THRESHOLD


class ReportKinds:
    def __init__(self, classifier: TextClassifier) -> None:
        self._classifier = classifier

    def read(self, text: str) -> KindReading | None:
        """The most likely type, and how report-like the message is; None for no words."""
        if not text or not text.strip() or text.startswith("/"):
            return None
        row = self._classifier.probabilities([text[:1000]])[0]
        not_report = row.get(NOT_REPORT, 0.0)
        kinds = {k: p for k, p in row.items() if k in REPORT_TYPES}
        kind = max(kinds, key=lambda k: kinds[k])
        return KindReading(kind, kinds[kind] / max(1e-9, 1.0 - not_report), not_report)

    def kind_of(self, text: str) -> str | None:
        """The type when the classifier is sure enough, else None (the form asks)."""
        reading = self.read(text)
        return reading.kind if reading is not None and reading.sure else None


def process_kinds(data_dir: Path, path: Path) -> ReportKinds:
    """The classifier trained on today's data: models/ when it is current, else trained now."""
    files = training_files(data_dir)
    classifier = load_or_train(path, fingerprint(files, SALT),
                               lambda: TextClassifier.train(training_examples(data_dir), _read))
    return ReportKinds(classifier)

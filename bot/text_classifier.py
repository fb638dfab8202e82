"""A small text classifier trained from the repository's own data: character n-grams (2-5,
inside word boundaries: typos, Spanish endings, "helppp") and words and word pairs, over a
normalised text; a logistic regression (scikit-learn, which Rasa already brings), whose
probabilities calibrated thresholds are chosen on.

It serves two dedicated questions that Rasa's intent classifier should not answer alone: is
this message about danger (bot/safety_signal.py), and which kind of report is this story
(bot/reports/kinds.py). Training takes seconds, so a model is never committed: it is trained
by `make model`, cached under models/ with the fingerprint of its data, and retrained when
the data changed.
"""
from __future__ import annotations

import hashlib
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import yaml

FORMAT_VERSION = "text-classifier-1"  # bump when the features or the model change: caches retrain


def fingerprint(files: Sequence[Path], salt: str = "") -> str:
    digest = hashlib.sha256(f"{FORMAT_VERSION}\0{salt}".encode())
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True)
class NluExample:
    intent: str
    metadata: Mapping[str, Any]  # the block's metadata (report stories carry their report_type)
    line: str  # as written, Rasa's entity markup included

    @property
    def text(self) -> str:
        """'[graffiti](report_type) on the wall' -> 'graffiti on the wall' (what a resident wrote)."""
        return _ANNOTATION.sub(lambda m: m.group(1), self.line)


def nlu_examples(path: Path) -> Iterator[NluExample]:
    """Every example of a Rasa NLU training file (data/nlu/*.yml), with its intent block's metadata."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for block in document.get("nlu") or ():
        intent = block.get("intent") if isinstance(block, dict) else None
        if not intent:
            continue
        examples = block.get("examples") or ""
        lines = examples.splitlines() if isinstance(examples, str) else [
            str(item.get("text", "")) for item in examples if isinstance(item, dict)]
        for raw in lines:
            line = raw.strip().removeprefix("- ").strip()
            if line:
                yield NluExample(str(intent), block.get("metadata") or {}, line)


class TextClassifier:
    def __init__(self, model: Any, fingerprint: str = "") -> None:
        self._model = model
        self.fingerprint = fingerprint
        self.classes: list[str] = [str(c) for c in model.classes_]

    @classmethod
    def train(cls, examples: Sequence[tuple[str, str]], preprocessor: Callable[[str], str],
              fingerprint: str = "", c: float = 8.0) -> "TextClassifier":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, make_pipeline

        features = FeatureUnion([
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True,
                                      preprocessor=preprocessor, max_features=300_000)),
            ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                                      preprocessor=preprocessor, token_pattern=r"(?u)\b\w+\b")),
        ])
        model = make_pipeline(features, LogisticRegression(C=c, class_weight="balanced", max_iter=3000))
        model.fit([text for text, _ in examples], [label for _, label in examples])
        return cls(model, fingerprint)

    def probabilities(self, texts: Sequence[str]) -> list[dict[str, float]]:
        rows = self._model.predict_proba(list(texts))
        return [{label: float(p) for label, p in zip(self.classes, row)} for row in rows]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(pickle.dumps({"fingerprint": self.fingerprint, "model": self._model}))
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path) -> "TextClassifier":
        # The file is ours (models/, written by `make model`), never an upload: pickle is safe here.
        stored = pickle.loads(path.read_bytes())
        return cls(stored["model"], stored.get("fingerprint", ""))


_loaded: dict[Path, TextClassifier] = {}


def load_or_train(path: Path, wanted: str, train: Callable[[], TextClassifier]) -> TextClassifier:
    """The model at `path` if it was trained on today's data (`wanted` fingerprint), else a new one,
    saved there. Kept once per process (the tests build many Services; a worker builds one)."""
    key = path.resolve()
    cached = _loaded.get(key)
    if cached is not None and cached.fingerprint == wanted:
        return cached
    classifier: TextClassifier | None = None
    if path.exists():
        try:
            classifier = TextClassifier.load(path)
        except (OSError, pickle.UnpicklingError, KeyError, ValueError, AttributeError, EOFError, ImportError):
            classifier = None
    if classifier is None or classifier.fingerprint != wanted:
        classifier = train()
        classifier.fingerprint = wanted
        classifier.save(path)
    _loaded[key] = classifier
    return classifier

"""The held-out NLU set (tests/nlu/) is independent of the training data (data/nlu/), and every
label of the domain is in both, in English and in Spanish."""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from bot.language import detect
from bot.settings import ROOT

_ANNOTATION = re.compile(r"\[([^\]]+)\](\{[^}]*\}|\([^)]*\))")
FAQ_TOPICS = sorted(k.split("/", 1)[1] for k in yaml.safe_load((ROOT / "domain.yml").read_text())["responses"]
                    if k.startswith("utter_faq/"))
# Intents that only ever come from a button's payload or from the pipeline, never from NLU.
PAYLOAD_ONLY = ("choose_topic", "inform_name", "confirm_unregister", "keep_signup", "send_photo")
INTENTS = [i for i in yaml.safe_load((ROOT / "domain.yml").read_text())["intents"]
           if i != "faq" and i not in PAYLOAD_ONLY]
LABELS = INTENTS + [f"faq/{t}" for t in FAQ_TOPICS]


def _plain(line: str) -> str:
    return _ANNOTATION.sub(r"\1", line)


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.findall(r"[a-z0-9]+", text))


def _examples(folder: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(folder.glob("*.yml")):
        for block in yaml.safe_load(path.read_text()).get("nlu") or []:
            if "intent" in block:
                for line in block["examples"].splitlines():
                    if line.strip().startswith("- "):
                        found[block["intent"]].append(_plain(line.strip()[2:]))
    return found


TRAIN = _examples(ROOT / "data" / "nlu")
HELDOUT = _examples(ROOT / "tests" / "nlu")


def _language_counts(examples: list[str]) -> dict[str, int]:
    counts = {"en": 0, "es": 0}
    for text in examples:
        counts[detect(text).language or "en"] += 1
    return counts


@pytest.mark.parametrize("label", LABELS)
def test_every_label_is_trained_and_evaluated_in_both_languages(label: str) -> None:
    for name, data in (("training", TRAIN), ("held-out", HELDOUT)):
        counts = _language_counts(data.get(label, []))
        assert counts["en"] >= 1 and counts["es"] >= 1, f"{label} in {name} data: {counts}"


def test_held_out_set_has_at_least_300_out_of_scope_messages() -> None:
    assert len(HELDOUT["out_of_scope"]) >= 300


def test_no_held_out_message_is_in_the_training_data() -> None:
    train = {_key(t) for texts in TRAIN.values() for t in texts}
    leaked = [t for texts in HELDOUT.values() for t in texts if _key(t) in train]
    assert not leaked, f"{len(leaked)} held-out messages are training examples: {leaked[:10]}"


def test_no_held_out_message_is_a_near_duplicate_of_a_training_example() -> None:
    """Token-set Jaccard >= 0.8 against any training example counts as a paraphrase leak."""
    train_sets = [set(_key(t).split()) for texts in TRAIN.values() for t in texts]
    by_token: dict[str, list[int]] = defaultdict(list)
    for index, tokens in enumerate(train_sets):
        for token in tokens:
            by_token[token].append(index)
    near = []
    for texts in HELDOUT.values():
        for text in texts:
            tokens = set(_key(text).split())
            if len(tokens) < 3:
                continue  # "hi there" vs "hi" is not a leak worth the name
            candidates = {i for token in tokens for i in by_token.get(token, ())}
            for index in candidates:
                other = train_sets[index]
                if len(tokens & other) / len(tokens | other) >= 0.8:
                    near.append(text)
                    break
    assert not near, f"{len(near)} near-duplicates of training data: {near[:10]}"

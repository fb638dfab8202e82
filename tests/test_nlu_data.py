"""The held-out NLU set (tests/nlu/) and the evaluation sets (tests/eval/) are independent of the
training data (data/nlu/, data/safety/), and every label of the domain is in both, in English
and in Spanish."""
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


def _near_duplicates(texts: list[str], training: list[str]) -> list[str]:
    """Token-set Jaccard >= 0.8 against any training example counts as a paraphrase leak."""
    train_sets = [set(_key(t).split()) for t in training]
    by_token: dict[str, list[int]] = defaultdict(list)
    for index, tokens in enumerate(train_sets):
        for token in tokens:
            by_token[token].append(index)
    near = []
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
    return near


def test_no_held_out_message_is_a_near_duplicate_of_a_training_example() -> None:
    near = _near_duplicates([t for texts in HELDOUT.values() for t in texts],
                            [t for texts in TRAIN.values() for t in texts])
    assert not near, f"{len(near)} near-duplicates of training data: {near[:10]}"


# -- the evaluation sets (tests/eval/): written apart, split once, never trained on ------------

EVAL_SETS = ("safety", "reports", "faq", "out_of_domain", "everyday")
MIN_CASES = {"safety": 300, "reports": 200, "faq": 200, "out_of_domain": 300}


def _eval_cases(split: str, name: str) -> list[dict]:  # type: ignore[type-arg]
    path = ROOT / "tests" / "eval" / split / f"{name}.yml"
    return list(yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]) if path.exists() else []


def _all_training() -> list[str]:
    texts = [t for examples in TRAIN.values() for t in examples]
    for path in sorted((ROOT / "data" / "safety").glob("*.txt")):
        texts.extend(line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                     if line.strip() and not line.startswith("#"))
    return texts


@pytest.mark.parametrize("name", list(MIN_CASES))
def test_each_evaluation_set_is_big_enough_in_both_languages_with_dev_and_test_parts(name: str) -> None:
    dev, test = _eval_cases("dev", name), _eval_cases("test", name)
    assert len(dev) + len(test) >= MIN_CASES[name] and len(test) >= MIN_CASES[name] // 2 - 15
    for part in (dev, test):
        assert {c["lang"] for c in part} == {"en", "es"}
    assert not {c["text"] for c in dev} & {c["text"] for c in test}  # a case is in one part only


@pytest.mark.parametrize("split", ["dev", "test", "check"])
def test_no_evaluation_message_is_in_the_training_data_or_a_near_duplicate_of_it(split: str) -> None:
    texts = [str(c["text"]) for name in EVAL_SETS for c in _eval_cases(split, name)]
    assert texts
    training = _all_training()
    keys = {_key(t) for t in training}
    leaked = [t for t in texts if _key(t) in keys]
    assert not leaked, f"{len(leaked)} {split} messages are training examples: {leaked[:10]}"
    near = _near_duplicates(texts, training)
    assert not near, f"{len(near)} {split} messages are near-duplicates of training data: {near[:10]}"

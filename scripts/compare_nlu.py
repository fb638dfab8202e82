"""`make compare-nlu`: choose the NLU pipeline and fallback thresholds by measurement.

Splits the training data (data/nlu) into train/validation (80/20, stratified, fixed seed),
trains each candidate pipeline on the train part, parses the validation part and sweeps the
FallbackClassifier threshold and ambiguity threshold over the raw intent rankings.
The held-out set in tests/nlu/ is NOT used here: it stays a test set for `make eval`.

Prints a table per candidate and writes var/compare/results.json. docs/nlu.md records a run.
Usage: python scripts/compare_nlu.py [candidate ...]   (default: every candidate)
"""
from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "compare"
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
sys.path.insert(0, str(ROOT))

from scripts.evaluate import ACTION_INTENTS, load_agent, prf  # noqa: E402

SEED = 7
FEATURES = [
    {"name": "WhitespaceTokenizer"},
    {"name": "RegexFeaturizer"},
    {"name": "LexicalSyntacticFeaturizer"},
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 4},
]
SELECTOR = {"name": "ResponseSelector", "retrieval_intent": "faq", "epochs": 40,
            "constrain_similarities": True, "random_seed": SEED}


def features(fold: bool = False, bigrams: bool = False) -> list[dict[str, Any]]:
    """FEATURES with accents folded in both vocabularies and/or word bigrams."""
    changed = []
    for f in FEATURES:
        if f["name"] == "CountVectorsFeaturizer":
            f = {**f, **({"strip_accents": "unicode"} if fold else {}),
                 **({"max_ngram": 2} if bigrams and not f.get("analyzer") else {})}
        changed.append(f)
    return changed


def diet(**config: Any) -> dict[str, Any]:
    return {"name": "DIETClassifier", "epochs": 40, "random_seed": SEED, **config}


SMALL = {"number_of_transformer_layers": 1, "transformer_size": 128}
TOPIC_LOGREG = {"name": "nlu_components.intent_classifier.TopicAwareIntentClassifier"}
TAIL = [{"name": "EntitySynonymMapper"}, SELECTOR]


def topic_selector(**config: Any) -> list[dict[str, Any]]:
    """The shipped pipeline (config.yml): the topic classifier also picks the FAQ answer."""
    return features(fold=True, bigrams=True) + [
        {**TOPIC_LOGREG, **config}, {"name": "CRFEntityExtractor"}, {"name": "EntitySynonymMapper"}]

CANDIDATES: dict[str, list[dict[str, Any]]] = {
    # DIET's defaults: 2 transformer layers of size 256 over word + char n-grams.
    "diet-2x256": FEATURES + [diet(constrain_similarities=True)] + TAIL,
    # A much smaller transformer: one layer of 128.
    "diet-1x128": FEATURES + [diet(constrain_similarities=True, **SMALL)] + TAIL,
    # The same with accents folded in both vocabularies ("reunion" = "reunión", "policia" = "policía").
    "diet-1x128-fold": features(fold=True) + [diet(constrain_similarities=True, **SMALL)] + TAIL,
    # Folded accents and word bigrams ("stop sending" vs "send me", "no more").
    "diet-1x128-fold-bigram": features(fold=True, bigrams=True) + [diet(constrain_similarities=True, **SMALL)] + TAIL,
    # A linear model for intents on the same sparse features (class-balanced logistic
    # regression); DIET only tags entities.
    "logreg-fold-bigram": features(fold=True, bigrams=True) + [
        {"name": "LogisticRegressionClassifier", "max_iter": 300},
        diet(intent_classification=False, **SMALL)] + TAIL,
    # FAQ topics learned as their own classes, summed back into `faq` (nlu_components/);
    # C=10. Entities by DIET (tagging only) or by a CRF.
    "topic-logreg-diet-entities": features(fold=True, bigrams=True) + [
        TOPIC_LOGREG, diet(intent_classification=False, **SMALL)] + TAIL,
    "topic-logreg-crf-entities": features(fold=True, bigrams=True) + [
        TOPIC_LOGREG, {"name": "CRFEntityExtractor"}] + TAIL,
    # The same with 30 response-selector epochs instead of 40 (training time: the FAQ selector
    # is most of it, and its training accuracy is flat after ~12 epochs).
    "topic-logreg-crf-entities-rs30": features(fold=True, bigrams=True) + [
        TOPIC_LOGREG, {"name": "CRFEntityExtractor"}, {"name": "EntitySynonymMapper"}, {**SELECTOR, "epochs": 30}],
    # No ResponseSelector: the topic classifier's own topic probabilities pick the FAQ answer
    # (nlu_components/intent_classifier.py writes Rasa's response_selector output).
    "topic-logreg-crf-topic-selector": topic_selector(),
    # The same with a weaker and a stronger regularisation (C=10 is the shipped value).
    "topic-logreg-crf-topic-selector-c5": topic_selector(C=5.0),
    "topic-logreg-crf-topic-selector-c20": topic_selector(C=20.0),
    # No transformer: bag of features into DIET's feed-forward layers (CRF still tags entities).
    "diet-0": FEATURES + [diet(epochs=60, constrain_similarities=True, number_of_transformer_layers=0)] + TAIL,
}
THRESHOLDS = [0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
AMBIGUITY = [0.0, 0.05, 0.1, 0.15]


def split() -> tuple[Path, Path]:
    target = OUT / "split"
    train, valid = target / "training_data.yml", target / "test_data.yml"
    if not train.exists():
        subprocess.run([str(Path(sys.executable).parent / "rasa"), "data", "split", "nlu", "--nlu", "data/nlu",
                        "--training-fraction", "0.8", "--random-seed", str(SEED), "--out", str(target)],
                       cwd=ROOT, check=True)
    return train, valid


def train(name: str, pipeline: list[dict[str, Any]], data: Path) -> float:
    config = OUT / f"{name}.config.yml"
    config.write_text(yaml.safe_dump({"recipe": "default.v1", "language": "en", "assistant_id": "compare",
                                      "pipeline": pipeline, "policies": []}, sort_keys=False))
    start = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "rasa"), "train", "nlu", "--config", str(config),
                    "--nlu", str(data), "--out", str(OUT / "models"), "--fixed-model-name", name],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


async def parse_all(name: str, valid: Path) -> tuple[list[dict[str, Any]], list[float]]:
    from rasa.shared.nlu.training_data.loading import load_data

    agent = load_agent(OUT / "models" / f"{name}.tar.gz")
    rows, latencies = [], []
    for message in load_data(str(valid)).intent_examples:
        start = time.perf_counter()
        parsed = await agent.parse_message(message.get("text"))
        latencies.append((time.perf_counter() - start) * 1000)
        ranking = [r for r in parsed.get("intent_ranking") or [] if r["name"] != "nlu_fallback"]
        selector = (parsed.get("response_selector") or {}).get("faq") or {}
        rows.append({"gold": message.get("intent"), "topic": message.get("intent_response_key"),
                     "ranking": [(r["name"], r["confidence"]) for r in ranking[:2]],
                     "pred_topic": (selector.get("response") or {}).get("intent_response_key"),
                     "entities": {(e["entity"], str(e.get("value")).lower()) for e in message.get("entities") or []},
                     "pred_entities": {(e["entity"], str(e.get("value")).lower()) for e in parsed.get("entities") or []}})
    return rows, latencies


def score(rows: list[dict[str, Any]], threshold: float, ambiguity: float) -> dict[str, float]:
    def predict(row: dict[str, Any]) -> str:
        (top, conf), second = row["ranking"][0], (row["ranking"][1][1] if len(row["ranking"]) > 1 else 0.0)
        return "nlu_fallback" if conf < threshold or conf - second < ambiguity else top

    predicted = [predict(r) for r in rows]
    in_scope = [(r, p) for r, p in zip(rows, predicted) if r["gold"] != "out_of_scope"]
    oos = [p for r, p in zip(rows, predicted) if r["gold"] == "out_of_scope"]
    labels = sorted({r["gold"] for r, _ in in_scope})
    f1s = []
    for label in labels:
        tp = sum(1 for r, p in in_scope if r["gold"] == label and p == label)
        fp = sum(1 for r, p in zip(rows, predicted) if r["gold"] != label and p == label)
        fn = sum(1 for r, p in in_scope if r["gold"] == label and p != label)
        f1s.append(prf(tp, fp, fn)[2])
    faq = [(r, p) for r, p in in_scope if r["gold"] == "faq"]
    return {
        "accuracy": sum(r["gold"] == p for r, p in in_scope) / len(in_scope),
        "macro_f1": statistics.mean(f1s),
        "faq_topic": sum(p == "faq" and r["pred_topic"] == r["topic"] for r, p in faq) / len(faq),
        "in_scope_to_fallback": sum(p == "nlu_fallback" for _, p in in_scope) / len(in_scope),
        "in_scope_wrong_answer": sum(p not in (r["gold"], "nlu_fallback") for r, p in in_scope) / len(in_scope),
        "oos_handled": sum(p in ("nlu_fallback", "out_of_scope") for p in oos) / len(oos),
        "oos_into_action": sum(p in ACTION_INTENTS for p in oos) / len(oos),
    }


def main(names: list[str]) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    train_file, valid_file = split()
    results_file = OUT / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    for name in names:
        seconds = train(name, CANDIDATES[name], train_file)
        rows, latencies = asyncio.run(parse_all(name, valid_file))
        sweep = [{"threshold": t, "ambiguity": a, **score(rows, t, a)} for t in THRESHOLDS for a in AMBIGUITY]
        tp = sum(len(r["entities"] & r["pred_entities"]) for r in rows)
        fp = sum(len(r["pred_entities"] - r["entities"]) for r in rows)
        fn = sum(len(r["entities"] - r["pred_entities"]) for r in rows)
        entity_f1 = prf(tp, fp, fn)[2]
        results[name] = {"train_seconds": round(seconds, 1), "parse_ms_p50": statistics.median(latencies),
                         "entity_f1": entity_f1,
                         "validation_examples": len(rows), "sweep": sweep}
        results_file.write_text(json.dumps(results, indent=2))
        print(f"\n== {name}: trained in {seconds:.0f} s on {train_file.name}, parse p50 "
              f"{statistics.median(latencies):.1f} ms, {len(rows)} validation messages, entity F1 {entity_f1:.3f}")
        print("thr  amb   acc   mF1   faq   in->fb  in-wrong  oos-ok  oos->action")
        for s in sweep:
            print(f"{s['threshold']:.2f} {s['ambiguity']:.2f}  {s['accuracy']:.3f} {s['macro_f1']:.3f} "
                  f"{s['faq_topic']:.3f}  {s['in_scope_to_fallback']:.3f}   {s['in_scope_wrong_answer']:.3f}"
                  f"     {s['oos_handled']:.3f}   {s['oos_into_action']:.3f}")
    print(f"\nwritten to {results_file.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or list(CANDIDATES)))

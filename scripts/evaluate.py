"""`make eval`: what residents experience, and the NLU behind it, on data never trained on.

1. The independent evaluation sets (tests/eval/{dev,test,check}/), through the whole pipeline
   (scripts/eval_pipeline.py: the development phone's path, a worker, a real Rasa server and
   action server): safety recall per kind, language and tier, false takeovers and the
   possible-danger rate on safe messages; reports told as stories (form started, right type,
   right place); FAQ questions in context (right answer); out-of-domain messages sent into an
   action intent; everyday requests that got a safety answer. README gives the test split.
2. The NLU on the held-out set in tests/nlu/: intent accuracy and macro-F1, a per-label table,
   FAQ topic accuracy (response selector), entity F1, the most confused pairs, out-of-scope
   handling, English vs Spanish and parse latency. Emergencies and crises in it are the safety
   screen's to read (Rasa has no safety intent): they count as right when the screen gives the
   clear tier of the right kind.

Writes var/eval/results.json, var/eval/results.md and two confusion-matrix pictures
(var/eval/intent_confusion.png, var/eval/report_type_confusion.png). EVAL_SPLITS=dev runs only
the dev part (for tuning), EVAL_SETS=safety,reports only those sets; EVAL_PIPELINE=0 and EVAL_NLU=0
skip a part.
"""
from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

from bot.language import detect  # noqa: E402
from bot.settings import Settings  # noqa: E402

HELDOUT = [Path(p) for p in os.environ["EVAL_FILES"].split(",")] if os.environ.get("EVAL_FILES") else [
    ROOT / "tests" / "nlu" / "heldout.yml", ROOT / "tests" / "nlu" / "out_of_scope.yml"]
MODEL = ROOT / "models" / "assistant.tar.gz"
OUT = ROOT / "var" / "eval"
FALLBACK = {"nlu_fallback", "out_of_scope"}
# Intents that start something on the resident's behalf: an out-of-scope message must not land here.
ACTION_INTENTS = {"report_incident", "check_report_status", "signup_meeting", "unregister_meeting",
                  "subscribe_alerts", "unsubscribe_alerts", "request_human"}


def load_examples() -> list[dict[str, Any]]:
    from rasa.shared.nlu.training_data.loading import load_data

    examples = []
    for path in HELDOUT:
        for message in load_data(str(path)).intent_examples:
            text = message.get("text")
            guess = detect(text)
            examples.append({
                "text": text,
                "intent": message.get("intent"),
                "topic": message.get("intent_response_key"),
                "entities": sorted((e["entity"], str(e.get("value", "")).lower()) for e in message.get("entities") or []),
                "language": guess.language or "en",
            })
    return examples


def load_agent(model: Path) -> Any:
    """A trained model loaded in-process, with Rasa's per-message debug logging off."""
    import logging

    import structlog
    from rasa.core.agent import Agent

    logging.getLogger().setLevel(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    return Agent.load(str(model))


async def predict(examples: list[dict[str, Any]]) -> list[float]:
    from bot.clock import SystemClock
    from bot.services import Services

    agent = load_agent(MODEL)
    screen = Services(Settings.from_env(), SystemClock()).safety
    latencies = []
    for example in examples:
        start = time.perf_counter()
        parsed = await agent.parse_message(example["text"])
        latencies.append((time.perf_counter() - start) * 1000)
        verdict = screen.screen(example["text"])
        example["pred_intent"] = verdict.kind.value if verdict.flagged and verdict.kind else parsed["intent"]["name"]
        example["confidence"] = parsed["intent"]["confidence"]
        selector = (parsed.get("response_selector") or {}).get("faq") or (parsed.get("response_selector") or {}).get("default")
        key = selector["response"].get("intent_response_key") if selector else None
        example["pred_topic"] = key
        example["pred_entities"] = sorted((e["entity"], str(e.get("value", "")).lower())
                                          for e in parsed.get("entities") or [])
    return latencies


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def report(examples: list[dict[str, Any]], latencies: list[float]) -> dict[str, Any]:
    in_scope = [e for e in examples if e["intent"] != "out_of_scope"]
    oos = [e for e in examples if e["intent"] == "out_of_scope"]
    labels = sorted({e["intent"] for e in in_scope})
    per_label = {}
    for label in labels:
        tp = sum(1 for e in in_scope if e["intent"] == label and e["pred_intent"] == label)
        fp = sum(1 for e in examples if e["intent"] != label and e["pred_intent"] == label)
        fn = sum(1 for e in in_scope if e["intent"] == label and e["pred_intent"] != label)
        p, r, f = prf(tp, fp, fn)
        per_label[label] = {"precision": p, "recall": r, "f1": f, "support": tp + fn}
    accuracy = sum(e["intent"] == e["pred_intent"] for e in in_scope) / len(in_scope)
    by_language = {}
    for language in ("en", "es"):
        subset = [e for e in in_scope if e["language"] == language]
        if subset:
            by_language[language] = {"accuracy": sum(e["intent"] == e["pred_intent"] for e in subset) / len(subset),
                                     "n": len(subset)}
    faq = [e for e in in_scope if e["intent"] == "faq"]
    faq_accuracy = sum(e["pred_intent"] == "faq" and e["pred_topic"] == e["topic"] for e in faq) / len(faq) if faq else 0.0
    entity_counts: dict[str, Counter[str]] = defaultdict(Counter)
    for e in examples:
        gold, pred = Counter(e["entities"]), Counter(e["pred_entities"])
        for (name, value), n in (gold | pred).items():
            hit = min(gold[(name, value)], pred[(name, value)])
            entity_counts[name]["tp"] += hit
            entity_counts[name]["fn"] += gold[(name, value)] - hit
            entity_counts[name]["fp"] += pred[(name, value)] - hit
    entities = {name: dict(zip(("precision", "recall", "f1"), prf(c["tp"], c["fp"], c["fn"])),
                           support=c["tp"] + c["fn"]) for name, c in sorted(entity_counts.items())}
    confused = Counter((e["intent"], e["pred_intent"]) for e in in_scope if e["intent"] != e["pred_intent"])
    return {
        "examples": len(examples), "in_scope": len(in_scope), "out_of_scope": len(oos),
        "intent_accuracy": accuracy,
        "macro_f1": statistics.mean(v["f1"] for v in per_label.values()),
        "by_language": by_language,
        "faq_topic_accuracy": faq_accuracy,
        "entities": entities,
        "per_label": per_label,
        "confused_pairs": [{"gold": g, "predicted": p, "count": n} for (g, p), n in confused.most_common(12)],
        "oos_handled": sum(e["pred_intent"] in FALLBACK for e in oos) / len(oos) if oos else 0.0,
        "oos_into_action_intent": sum(e["pred_intent"] in ACTION_INTENTS for e in oos) / len(oos) if oos else 0.0,
        "parse_ms_p50": statistics.median(latencies),
        "parse_ms_p95": sorted(latencies)[int(0.95 * (len(latencies) - 1))],
    }


def render(r: dict[str, Any]) -> str:
    lines = [
        f"{r['in_scope']} in-scope + {r['out_of_scope']} out-of-scope messages",
        "",
        f"intent accuracy      {r['intent_accuracy']:.3f}   (target >= 0.93)",
        f"macro-F1             {r['macro_f1']:.3f}   (target >= 0.92)",
        *[f"  {lang} accuracy       {v['accuracy']:.3f}   (n={v['n']})" for lang, v in r["by_language"].items()],
        f"FAQ topic accuracy   {r['faq_topic_accuracy']:.3f}   (target >= 0.92)",
        f"out-of-scope -> fallback/out_of_scope  {r['oos_handled']:.1%}   (target >= 90%)",
        f"out-of-scope -> an action intent       {r['oos_into_action_intent']:.1%}   (target <= 2%)",
        f"NLU parse            p50 {r['parse_ms_p50']:.1f} ms, p95 {r['parse_ms_p95']:.1f} ms",
        "",
        "| label | precision | recall | F1 | n |",
        "|---|---|---|---|---|",
        *[f"| {k} | {v['precision']:.2f} | {v['recall']:.2f} | {v['f1']:.2f} | {v['support']} |"
          for k, v in r["per_label"].items()],
        "",
        "| entity | precision | recall | F1 | n |",
        "|---|---|---|---|---|",
        *[f"| {k} | {v['precision']:.2f} | {v['recall']:.2f} | {v['f1']:.2f} | {v['support']} |"
          for k, v in r["entities"].items()],
        "",
        "Most confused (gold -> predicted):",
        *[f"  {c['count']:3d}  {c['gold']} -> {c['predicted']}" for c in r["confused_pairs"]],
    ]
    return "\n".join(lines)


def confusion_picture(pairs: list[tuple[str, str]], path: Path, title: str) -> None:
    """A confusion matrix as a PNG (rows: what it was; columns: what the assistant made of it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gold = sorted({g for g, _ in pairs})
    predicted = gold + sorted({p for _, p in pairs} - set(gold))
    counts = Counter(pairs)
    grid = [[counts[(g, p)] for p in predicted] for g in gold]
    size = max(6.0, 0.42 * len(predicted))
    figure, axes = plt.subplots(figsize=(size + 2, 0.42 * len(gold) + 2.5))
    axes.imshow([[v / max(1, sum(row)) for v in row] for row in grid], cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(predicted)), predicted, rotation=90, fontsize=8)
    axes.set_yticks(range(len(gold)), gold, fontsize=8)
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            if value:
                axes.text(j, i, str(value), ha="center", va="center", fontsize=7,
                          color="white" if value / max(1, sum(row)) > 0.5 else "black")
    axes.set_xlabel("got")
    axes.set_ylabel("was")
    axes.set_title(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def nlu_part() -> tuple[dict[str, Any], str, list[tuple[str, str]]]:
    examples = load_examples()
    latencies = asyncio.run(predict(examples))
    result = report(examples, latencies)
    pairs = [(e["intent"], e["pred_intent"]) for e in examples]
    return result, render(result), pairs


def main() -> int:
    if not MODEL.exists():
        print("no model: run `make model`", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    sections: list[str] = []
    if os.environ.get("EVAL_PIPELINE", "1") != "0":
        from scripts import eval_report

        splits = [s.strip() for s in os.environ.get("EVAL_SPLITS", "dev,test,check").split(",") if s.strip()]
        (OUT / "dev_cases.jsonl").unlink(missing_ok=True)
        sets = tuple(s.strip() for s in os.environ.get("EVAL_SETS", "").split(",") if s.strip()) or None
        pipeline, text, report_pairs = eval_report.run_pipeline(splits, OUT, sets)
        results["pipeline"] = pipeline
        sections.append(text)
        print(text, flush=True)
        if report_pairs:
            confusion_picture(report_pairs, OUT / "report_type_confusion.png",
                              "Report type from a resident's story, test split (through the pipeline)")
    if os.environ.get("EVAL_NLU", "1") != "0":
        nlu, text, pairs = nlu_part()
        results["nlu"] = nlu
        sections.append("## NLU on the held-out set (tests/nlu/)\n\n" + text)
        print("\n" + sections[-1])
        confusion_picture(pairs, OUT / "intent_confusion.png", "Intent on the held-out set (tests/nlu/)")
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    (OUT / "results.md").write_text("\n\n".join(sections) + "\n")
    print(f"\nwritten to {OUT.relative_to(ROOT)}/: results.json, results.md"
          f"{', intent_confusion.png' if 'nlu' in results else ''}{', report_type_confusion.png' if 'pipeline' in results else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

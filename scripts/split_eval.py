"""Split an independently written evaluation set into its dev and test parts, once.

`python scripts/split_eval.py tests/eval/raw/safety_a.yml safety [--key expect]` writes
tests/eval/dev/safety.yml and tests/eval/test/safety.yml: half of every stratum (the case's
label, kind and language) to each, chosen by a hash of the text, so the split does not depend on the
order the author wrote in and is the same on every machine. Tune on dev; report on test; never
copy a test case into training data or turn one into a rule (tests/test_nlu_data.py checks
that no training example repeats an evaluation message).

`--check` writes the whole set to tests/eval/check/NAME.yml instead: a second independent set,
never tuned on, run beside the test split.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "tests" / "eval"
LABEL_KEYS = ("expect", "type", "topic", "domain", "intent")


def _order(text: str) -> str:
    return hashlib.sha256(text.strip().lower().encode()).hexdigest()


def split(cases: list[dict], key: str) -> tuple[list[dict], list[dict]]:
    strata: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for case in cases:
        strata[(str(case.get(key)), str(case.get("kind")), str(case.get("lang")))].append(case)
    dev: list[dict] = []
    test: list[dict] = []
    for number, members in enumerate(strata.values()):
        for index, case in enumerate(sorted(members, key=lambda c: _order(c["text"]))):
            (dev if (index + number) % 2 == 0 else test).append(case)  # odd strata: no lean to dev
    return dev, test


def write(path: Path, cases: list[dict], header: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.safe_dump({"cases": cases}, allow_unicode=True, sort_keys=False, width=1000)
    path.write_text(header + body, encoding="utf-8")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("raw", type=Path)
    parser.add_argument("name")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    cases = yaml.safe_load(args.raw.read_text(encoding="utf-8"))["cases"]
    seen: set[str] = set()
    unique = []
    for case in cases:
        folded = " ".join(str(case["text"]).lower().split())
        if folded not in seen:
            seen.add(folded)
            unique.append(case)
    key = next(k for k in LABEL_KEYS if k in unique[0])
    header = ("# Written independently of the rules and the training data (never read by its author),\n"
              "# briefed with categories and texting style only. Split by scripts/split_eval.py.\n")
    if args.check:
        write(EVAL / "check" / f"{args.name}.yml", unique, header + "# Second independent set: never tuned on.\n")
        print(f"{args.name}: {len(unique)} check cases")
        return 0
    dev, test = split(unique, key)
    write(EVAL / "dev" / f"{args.name}.yml", dev, header + "# dev part: tune on it.\n")
    write(EVAL / "test" / f"{args.name}.yml", test, header + "# test part: report on it, never tune on it.\n")
    print(f"{args.name}: {len(dev)} dev, {len(test)} test (by {key} and language)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

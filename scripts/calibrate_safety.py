"""`make calibrate-safety`: choose the learned safety signal's two thresholds on the dev split.

Reads the dev part of the independent evaluation sets (tests/eval/dev/, never the test part):
the safety set's emergencies and crises, its hard safe messages, and the everyday, report, FAQ
and out-of-domain messages (all safe). For each message the rules' verdict is fixed; the signal
decides only where no rule fired. Then:

- `rule_veto`: a rule that fires on a message the signal scores below it gives the possible tier
  instead of the takeover: as high as it can be (at most MAX_VETO) while no dev danger that a
  rule caught falls below it;
- `rule_silence`: a rule that fires on a message the signal scores below it gives a normal
  answer: a third of the lowest score of a dev danger that a rule caught, at most MAX_SILENCE;
- `clear` (the signal alone takes over): the lowest threshold at which hard safe messages get
  a takeover at most CLEAR_BUDGET of the time and the other safe sets at most OTHER_BUDGET;
- `possible` (the normal answer plus one 911/988 line): the lowest threshold at which hard safe
  messages get a safety answer of either tier at most POSSIBLE_BUDGET of the time, the other
  safe sets at most OTHER_LINE_BUDGET, and no everyday request (meetings, joining, help with a
  report) ever does.

Writes data/safety/thresholds.json and prints what each threshold gives on dev.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.safety import SafetyScreen  # noqa: E402
from bot.safety_signal import process_signal  # noqa: E402
from bot.settings import Settings  # noqa: E402
from scripts.eval_pipeline import load_cases  # noqa: E402

CLEAR_BUDGET = 0.01  # of hard safe messages taken over on dev: half the target (one in 50), a margin for unseen wording
POSSIBLE_BUDGET = 0.10
OTHER_BUDGET = 0.01
OTHER_LINE_BUDGET = 0.05  # the one-line reminder on at most 1 in 20 reports, FAQ or off-topic messages: a missed 911 costs more
MAX_VETO = 0.3
MAX_SILENCE = 0.1
SILENCE_MARGIN = 3.0  # the lowest-scored danger a rule caught must score this many times the floor
GRID = [round(0.30 + 0.01 * i, 2) for i in range(69)] + [0.99, 0.995, 0.998, 0.999]


def _rate(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def tier(scored: tuple[bool, float], veto: float, clear: float, possible: float, silence: float = 0.0) -> int:
    """2 clear, 1 possible, 0 safe: what SafetyScreen decides (bot/safety.py)."""
    rule, danger = scored
    if rule:
        return 2 if danger >= veto else (1 if danger >= silence else 0)
    return 2 if danger >= clear else (1 if danger >= possible else 0)


def main() -> int:
    settings = Settings.from_env()
    rules = SafetyScreen()
    signal = process_signal(ROOT / "data", settings.safety_model)

    def scored(texts: list[str]) -> list[tuple[bool, float]]:
        return [(rules.screen(t).kind is not None, signal.score(t).danger) for t in texts]

    safety = load_cases("dev", "safety")
    danger = scored([c["text"] for c in safety if c["expect"] != "safe"])
    hard_safe = scored([c["text"] for c in safety if c["expect"] == "safe"])
    everyday = scored([c["text"] for c in load_cases("dev", "everyday")])
    others = scored([c["text"] for name in ("reports", "faq", "out_of_domain") for c in load_cases("dev", name)])

    # The veto: as high as it can be (at most MAX_VETO) without demoting a real danger a rule caught.
    caught = sorted(d for rule, d in danger if rule)
    veto = min(MAX_VETO, caught[0]) if caught else 0.0
    silence = round(min(MAX_SILENCE, caught[0] / SILENCE_MARGIN), 3) if caught else 0.0

    def rates(rows: list[tuple[bool, float]], clear: float, possible: float, least: int) -> float:
        return _rate([tier(r, veto, clear, possible, silence) >= least for r in rows])

    clear = next((t for t in GRID if rates(hard_safe, t, t, 2) <= CLEAR_BUDGET and rates(others, t, t, 2) <= OTHER_BUDGET),
                 GRID[-1])
    possible = next((t for t in GRID if t <= clear and rates(hard_safe, clear, t, 1) <= POSSIBLE_BUDGET
                     and rates(others, clear, t, 1) <= OTHER_LINE_BUDGET and rates(everyday, clear, t, 1) == 0), clear)
    for name, least in (("clear", 2), ("any tier", 1)):
        print(f"{name:8s}: danger {rates(danger, clear, possible, least):.3f} (n={len(danger)}), "
              f"hard safe {rates(hard_safe, clear, possible, least):.3f} (n={len(hard_safe)}), "
              f"other safe {rates(others, clear, possible, least):.3f} (n={len(others)}), "
              f"everyday {rates(everyday, clear, possible, least):.3f} (n={len(everyday)})")
    path = settings.safety_thresholds
    path.write_text(json.dumps({"clear": clear, "possible": possible, "rule_veto": round(veto, 3),
                                "rule_silence": silence,
                                "chosen_on": "tests/eval/dev (make calibrate-safety)"}, indent=2) + "\n")
    print(f"thresholds clear {clear}, possible {possible}, rule veto {veto:.3f}, rule silence {silence:.3f}: written to {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

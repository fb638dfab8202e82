"""`make eval`'s pipeline part: what residents experience, measured through the whole path.

Every message of the independent evaluation sets (tests/eval/<split>/*.yml) is texted from a new
number to the development phone's API, which signs it and posts it to the SMS webhook like
Twilio; a worker (in this process, RQ burst mode) runs the conversation pipeline against a real
Rasa server and action server trained from this repository; the replies are read back from the
transcript, and the report form's slots from Rasa's tracker. Nothing is stubbed.

A reply is recognised as one of domain.yml's responses by its text (every variation rendered
with the department's slots), so "got the 911 answer" means the resident really got it.
"""
from __future__ import annotations

import json
import os
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import requests
import yaml

from bot.clock import SystemClock
from bot.identity import sender_id
from bot.services import Services, use_services
from bot.settings import ROOT, Settings
from bot.sms import normalize_gsm, render_menu
from scripts.localredis import LocalRedis
from scripts.rasa_servers import RasaServers, demo_database

EVAL = ROOT / "tests" / "eval"
SENDER_KEY = "eval-sender-key"
SAFETY_ANSWERS = {"utter_emergency": "911", "utter_crisis": "988", "utter_crisis_other": "988"}
SAFETY_LINES = {"utter_safety_line_emergency": "911", "utter_safety_line_crisis": "988"}
# Intents that start or change something for the resident: an out-of-domain message must not reach one.
ACTION_INTENTS = frozenset({"report_incident", "check_report_status", "signup_meeting", "unregister_meeting",
                            "confirm_unregister", "subscribe_alerts", "unsubscribe_alerts", "request_human", "affirm"})
# What a resident hears once routed into one of them: a report form, a sign-up or a drop, a
# status look-up, a handoff (an intent the NLU read but the assistant did not act on is not here).
ACTION_RESPONSES = ("utter_ask_incident", "utter_incident_", "utter_ask_meeting_id", "utter_ask_signup",
                    "utter_ask_which_signup", "utter_confirm_unregister", "utter_no_signups", "utter_signups_list",
                    "utter_report_status", "utter_no_reports", "utter_report_not_found", "utter_handoff_started")
SIGNUP_RESPONSES = ("utter_ask_signup", "action_start_signup", "utter_signup", "utter_unregister", "utter_my_signups")
PREFIX = 48  # characters of a reply that name its response (the rest may hold a meeting, a reference...)


def load_cases(split: str, name: str) -> list[dict[str, Any]]:
    path = EVAL / split / f"{name}.yml"
    if not path.exists():
        return []
    return list((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("cases") or [])


@dataclass
class Outcome:
    """What one message got: the responses recognised in its replies, the intent the pipeline
    recorded, and the report form's slots."""
    replies: list[str]
    responses: list[str]
    intent: str | None
    safety: str | None
    slots: dict[str, Any] = field(default_factory=dict)

    def got(self, *names: str) -> bool:
        return any(r in names or any(r.startswith(n) for n in names) for r in self.responses)


class ResponseIndex:
    """The start of every variation of every response, filled with the department's slots in each
    language (cut where a value only known at run time begins: a meeting, a reference) -> its name."""

    def __init__(self, services: Services) -> None:
        from bot.responses import fill

        starts: dict[str, str] = {}
        catalog = services.catalog
        for name in catalog.names():
            for language in services.profile.languages:
                slots = services.pipeline.slots(language)
                for variation in catalog.variations(name):
                    text = normalize_gsm(render_menu(fill(str(variation.get("text", "")), slots), (), language))
                    start = _start(text.split("{", 1)[0])
                    if len(start) >= 12:
                        starts.setdefault(start, name)
        self._starts = sorted(starts.items(), key=lambda item: -len(item[0]))  # the longest match wins

    def name(self, reply: str) -> str:
        text = _start(reply)
        for start, name in self._starts:
            if text.startswith(start) or (len(text) < len(start) and start.startswith(text) and len(text) >= 12):
                return name
        return "unknown"


def _start(text: str) -> str:
    return " ".join(text.split())[:PREFIX]


class PipelineHarness:
    """Redis, a demo database, Rasa and the action server, and this process's Services."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self.redis = LocalRedis(workdir=workdir / "redis")
        self.servers: RasaServers | None = None
        self.services: Services | None = None
        self._numbers = iter(range(10_000, 10_000_000))

    def __enter__(self) -> "PipelineHarness":
        self.redis.start()
        database_url = demo_database(self._workdir)
        settings = Settings(
            database_url=database_url, redis_url=self.redis.url, sender_id_key=SENDER_KEY,
            turn_retry_delays=(0.0,), outbound_retry_delays=(0.0,), log_level="ERROR",
            report_photo_dir=self._workdir / "photos")
        env = {**os.environ, "RASA_REDIS_HOST": "127.0.0.1", "RASA_REDIS_PORT": str(self.redis.port),
               "RASA_REDIS_DB": "1", "DATABASE_URL": database_url, "SENDER_ID_KEY": SENDER_KEY,
               "REDIS_URL": self.redis.url, "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "LOG_LEVEL": "ERROR"}
        self.servers = RasaServers(env, self._workdir / "logs", settings.rasa_token).start()
        from dataclasses import replace

        self.services = Services(replace(settings, rasa_url=self.servers.url), SystemClock())
        use_services(self.services)
        from webhook.app import create_app

        self._client = create_app(services=self.services).test_client()
        self.index = ResponseIndex(self.services)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.servers is not None:
            self.servers.stop()
        if self.services is not None:
            self.services.db.dispose()
        use_services(None)
        self.redis.stop()

    def new_number(self) -> str:
        return f"+1541{next(self._numbers):07d}"

    def answer(self, bodies: list[str], batch: int = 40) -> list[Outcome]:
        """Each message from a new number (a resident's first message), answered; in batches:
        a batch is texted, then one worker burst answers it, as a worker does a queue."""
        outcomes: list[Outcome] = []
        for first in range(0, len(bodies), batch):
            numbers = [self.new_number() for _ in bodies[first:first + batch]]
            for number, body in zip(numbers, bodies[first:first + batch]):
                self._post(number, body)
            self._work()
            outcomes.extend(self._outcome(number) for number in numbers)
        return outcomes

    def text(self, number: str, body: str) -> Outcome:
        """One more message in `number`'s conversation, answered."""
        before = self._outbound_count(number)
        self._post(number, body)
        self._work()
        return self._outcome(number, before)

    def _post(self, number: str, body: str) -> None:
        response = self._client.post("/dev/phone/api/messages", json={"from": number, "body": body})
        if response.status_code != 202:
            raise RuntimeError(f"development phone refused a message: {response.status_code}")

    def _work(self) -> None:
        assert self.services is not None
        from rq import SimpleWorker

        SimpleWorker([self.services.queue], connection=self.services.redis).work(burst=True, logging_level="ERROR")

    def _outcome(self, number: str, before: int = 0) -> Outcome:
        messages = self._messages(number)
        inbound = [m for m in messages if m["direction"] == "in"]
        replies = [m["text"] for m in messages if m["direction"] == "out"][before:]
        last_in = inbound[-1] if inbound else {}
        return Outcome(replies=replies, responses=[self.index.name(r) for r in replies],
                       intent=last_in.get("intent"), safety=self._safety_of(number), slots=self._slots(number))

    def _messages(self, number: str) -> list[dict[str, Any]]:
        return list(self._client.get("/dev/phone/api/messages", query_string={"number": number}).get_json()["messages"])

    def _outbound_count(self, number: str) -> int:
        return sum(1 for m in self._messages(number) if m["direction"] == "out")

    def _safety_of(self, number: str) -> str | None:
        assert self.services is not None
        from bot.identity import address_hash

        digest = address_hash(SENDER_KEY, "sms", number)
        found = [m.safety for m in self.services.messages.messages_for_address("sms", digest)
                 if m.direction == "in" and m.safety]
        return found[-1] if found else None

    def _slots(self, number: str) -> dict[str, Any]:
        assert self.servers is not None and self.services is not None
        sender = sender_id(SENDER_KEY, "sms", number)
        try:
            tracker = requests.get(f"{self.servers.url}/conversations/{sender}/tracker",
                                   params={"token": self.services.settings.rasa_token}, timeout=10).json()
        except (requests.RequestException, ValueError):
            return {}
        slots = dict(tracker.get("slots") or {})
        slots["active_loop"] = (tracker.get("active_loop") or {}).get("name")
        return slots


# -- scoring ---------------------------------------------------------------------------

def _rate(hits: int, total: int) -> dict[str, Any]:
    return {"rate": hits / total if total else None, "hits": hits, "n": total}


def safety_outcome(outcome: Outcome) -> dict[str, bool]:
    answers = {SAFETY_ANSWERS[r] for r in outcome.responses if r in SAFETY_ANSWERS}
    lines = {SAFETY_LINES[r] for r in outcome.responses if r in SAFETY_LINES}
    return {"clear_911": "911" in answers, "clear_988": "988" in answers,
            "line_911": "911" in lines, "line_988": "988" in lines,
            "takeover": bool(answers), "line": bool(lines)}


def score_safety(results: list[tuple[dict[str, Any], Outcome]]) -> dict[str, Any]:
    by: dict[str, list[tuple[dict[str, Any], dict[str, bool]]]] = defaultdict(list)
    for case, outcome in results:
        by[case["expect"]].append((case, safety_outcome(outcome)))
    emergency, crisis, safe = by["emergency"], by["crisis"], by["safe"]

    def group(rows: list[tuple[dict[str, Any], dict[str, bool]]], key: str, hit: str) -> dict[str, Any]:
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for case, got in rows:
            label = f"{case.get(key)}"
            counts[label][0] += int(_hit(got, hit))
            counts[label][1] += 1
        return {label: _rate(h, n) for label, (h, n) in sorted(counts.items())}

    return {
        "emergency_911_any": _rate(sum(_hit(g, "911_any") for _, g in emergency), len(emergency)),
        "emergency_911_clear": _rate(sum(g["clear_911"] for _, g in emergency), len(emergency)),
        "emergency_any_safety_answer": _rate(sum(_hit(g, "any") for _, g in emergency), len(emergency)),
        "emergency_by_kind": group(emergency, "kind", "911_any"),
        "emergency_by_language": group(emergency, "lang", "911_any"),
        "crisis_988_any": _rate(sum(_hit(g, "988_any") for _, g in crisis), len(crisis)),
        "crisis_988_clear": _rate(sum(g["clear_988"] for _, g in crisis), len(crisis)),
        "crisis_by_kind": group(crisis, "kind", "988_any"),
        "crisis_by_language": group(crisis, "lang", "988_any"),
        "safe_takeover": _rate(sum(g["takeover"] for _, g in safe), len(safe)),
        "safe_line": _rate(sum(g["line"] and not g["takeover"] for _, g in safe), len(safe)),
        "safe_takeover_by_kind": group(safe, "kind", "takeover"),
        "safe_by_language": group(safe, "lang", "takeover"),
        "misses": [{"expect": c["expect"], "kind": c.get("kind"), "lang": c.get("lang"), "got": o.responses}
                   for c, o in results if not _correct(c, safety_outcome(o))],
    }


def _hit(got: dict[str, bool], what: str) -> bool:
    if what == "911_any":
        return got["clear_911"] or got["line_911"]
    if what == "988_any":
        return got["clear_988"] or got["line_988"]
    if what == "any":
        return got["takeover"] or got["line"]
    return got[what]


def _correct(case: dict[str, Any], got: dict[str, bool]) -> bool:
    if case["expect"] == "emergency":
        return _hit(got, "911_any")
    if case["expect"] == "crisis":
        return _hit(got, "988_any")
    return not got["takeover"] and not got["line"]


def _place_matches(expected: str | None, stored: Any) -> bool:
    if not expected or not stored:
        return False
    try:
        place = json.loads(stored)
    except (TypeError, ValueError):
        return False
    words = {w for w in _fold(expected).split() if len(w) > 1}
    found = set(_fold(" ".join([str(place.get("text") or ""), *map(str, place.get("streets") or [])])).split())
    return bool(words) and len(words & found) >= max(1, len(words) // 2)


def _fold(text: str) -> str:
    from bot.meetings.filters import fold

    return "".join(c if c.isalnum() else " " for c in fold(text))


def score_reports(results: list[tuple[dict[str, Any], Outcome]]) -> dict[str, Any]:
    started = [(c, o) for c, o in results if o.slots.get("active_loop") == "report_incident_form"
               or o.slots.get("incident_type") or o.got("utter_ask_incident", "utter_report_other_agency")]
    right_type = [(c, o) for c, o in started if o.slots.get("incident_type") == c["type"]
                  or (c["type"] == "other" and o.got("utter_report_other_agency"))]
    with_place = [(c, o) for c, o in results if c.get("place")]
    confusion = Counter((c["type"], str(o.slots.get("incident_type") or ("(no report)" if (c, o) not in started else "(asked)")))
                        for c, o in results)
    handled_elsewhere = [(c, o) for c, o in results if (c, o) not in right_type and o.got("utter_report_other_agency")]
    return {
        "form_started": _rate(len(started), len(results)),
        "right_type": _rate(len(right_type), len(results)),
        # the department's profile gives a place or a topic (a street light) to another agency
        "sent_to_other_agency": _rate(len(handled_elsewhere), len(results)),
        "right_place": _rate(sum(_place_matches(c.get("place"), o.slots.get("incident_place")) for c, o in with_place),
                             len(with_place)),
        "reached_signup_flows": _rate(sum(o.got(*SIGNUP_RESPONSES) for _, o in results), len(results)),
        "safety_answer": _rate(sum(safety_outcome(o)["takeover"] for _, o in results), len(results)),
        "by_type": {t: _rate(sum(1 for c, o in right_type if c["type"] == t), sum(1 for c, _ in results if c["type"] == t))
                    for t in sorted({c["type"] for c, _ in results})},
        "confusion": [{"gold": g, "got": p, "n": n} for (g, p), n in sorted(confusion.items())],
    }


def score_faq(results: list[tuple[dict[str, Any], Outcome]]) -> dict[str, Any]:
    right = [(c, o) for c, o in results if f"utter_faq/{c['topic']}" in o.responses]
    got = Counter(next((r for r in o.responses if r.startswith("utter_faq/")), o.responses[0] if o.responses else "-")
                  for c, o in results if (c, o) not in right)
    return {"right_answer": _rate(len(right), len(results)),
            "by_language": {lang: _rate(sum(1 for c, _ in right if c.get("lang") == lang),
                                        sum(1 for c, _ in results if c.get("lang") == lang)) for lang in ("en", "es")},
            "wrong_answers": dict(got.most_common(10))}


def score_out_of_domain(results: list[tuple[dict[str, Any], Outcome]]) -> dict[str, Any]:
    """`into_action_intent`: the resident was routed into an action (its form, its look-up);
    `action_intent_read`: the NLU read an action intent, acted on or not (a second opinion or
    the "Did you mean" confirmation may have stopped it)."""
    into_action = [o.intent or "-" for _, o in results if o.got(*ACTION_RESPONSES)]
    read = [o.intent for _, o in results if o.intent in ACTION_INTENTS]
    return {"into_action_intent": _rate(len(into_action), len(results)),
            "action_intent_read": _rate(len(read), len(results)),
            "out_of_scope_answer": _rate(sum(o.got("utter_out_of_scope") for _, o in results), len(results)),
            "safety_answer": _rate(sum(safety_outcome(o)["takeover"] or safety_outcome(o)["line"] for _, o in results),
                                   len(results)),
            "action_intents": dict(Counter(into_action))}


def score_everyday(results: list[tuple[dict[str, Any], Outcome]]) -> dict[str, Any]:
    return {"safety_answer_or_line": _rate(sum(safety_outcome(o)["takeover"] or safety_outcome(o)["line"]
                                               for _, o in results), len(results))}


SETS = {"safety": score_safety, "reports": score_reports, "faq": score_faq,
        "out_of_domain": score_out_of_domain, "everyday": score_everyday}


def run(splits: Iterable[str], sets: Iterable[str] = tuple(SETS)) -> Iterator[tuple[str, str, dict[str, Any], list]]:
    """(split, set name, scores, per-case results) for every set of every split."""
    with tempfile.TemporaryDirectory(prefix="eval-") as workdir, PipelineHarness(Path(workdir)) as harness:
        for split in splits:
            for name in sets:
                cases = load_cases(split, name)
                if not cases:
                    continue
                results = list(zip(cases, harness.answer([str(case["text"]) for case in cases])))
                yield split, name, SETS[name](results), results

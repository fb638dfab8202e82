"""Scale-out (issue #8, part 3): the tested configuration of README "Several replicas".

2 Rasa server replicas sharing the Redis tracker and lock stores, behind a load balancer that
sends each conversation's consecutive turns to different replicas; 2 gunicorn webhook
processes; 2 workers; the recovery sweeper; PostgreSQL when TEST_POSTGRES_URL is set (as in CI),
else SQLite (tests/stack.py). Eight residents text at the same time, their deliveries spread
over both webhook processes, some delivered twice.
"""
from __future__ import annotations

from collections import Counter

import pytest
import requests

from tests.stack import RASA_TOKEN, Deployment, Resident, shared_deployment, talk

RESIDENTS = 8
MESSAGES = 6


@pytest.fixture(scope="module")
def stack(pytestconfig: pytest.Config) -> Deployment:
    return shared_deployment(pytestconfig)


@pytest.fixture(autouse=True)
def healthy(stack: Deployment) -> None:
    stack.heal()
    stack.check_alive()


def _jobs_started(stack: Deployment) -> dict[str, int]:
    """Conversation jobs each worker process started, from its log (RQ's own registry of workers
    does not survive a Redis restart, which an earlier test may have done)."""
    return {w.name: w.log.read_text(errors="replace").count("bot.jobs.process_conversation(") for w in stack.workers}


def _collapsed(texts: list[str]) -> list[str]:
    """Consecutive repeats removed: a turn retried after a timeout reaches Rasa's tracker twice."""
    return [t for i, t in enumerate(texts) if i == 0 or texts[i - 1] != t]


def test_interleaved_residents_on_every_replica_are_answered_once_in_order(stack: Deployment) -> None:
    assert len(stack.rasa) == 2 and len(stack.webhooks) == 2 and len(stack.workers) >= 2
    turns_before = Counter(stack.balancer.turns) if stack.balancer else Counter()
    jobs_before = _jobs_started(stack)
    residents = [Resident(stack) for _ in range(RESIDENTS)]

    wave = talk(residents, count=MESSAGES, duplicate_every=3)

    counts = stack.settle(residents, timeout=120)
    assert counts.get("answered") == RESIDENTS * MESSAGES and not counts.get("apologised"), counts
    duplicates = [d for r in residents for d in r.duplicates]
    assert len(duplicates) >= RESIDENTS, "the duplicate deliveries happened (each acknowledged with 200)"
    assert all(d.attempts == 1 for d in wave + duplicates), "no webhook delivery had to be retried"

    # Every replica of every process took part: both Rasa servers ran turns of the same
    # conversations (the balancer alternates), both workers ran jobs.
    assert stack.balancer
    turns = stack.balancer.turns - turns_before
    assert len(turns) == 2 and min(turns.values()) >= RESIDENTS, turns
    assert all(len(stack.balancer.senders[r.rasa_sender]) == 2 for r in residents)
    jobs_after = _jobs_started(stack)
    assert all(jobs_after[name] > jobs_before[name] for name in jobs_after), (jobs_before, jobs_after)

    # One conversation state in Rasa: each replica reads the same tracker from Redis, holding the
    # resident's messages once each, in the order they were sent.
    for resident in residents:
        trackers = []
        for replica in stack.rasa:
            response = requests.get(f"http://127.0.0.1:{replica.port}/conversations/{resident.rasa_sender}/tracker",
                                    params={"token": RASA_TOKEN}, timeout=10)
            assert response.status_code == 200, response.text
            trackers.append([e.get("text") for e in response.json()["events"] if e.get("event") == "user"])
        assert trackers[0] == trackers[1]
        sent = [d.text for d in resident.sent]
        assert (trackers[0] if not counts.get("turn_retries") else _collapsed(trackers[0])) == sent

    stack.recovered()

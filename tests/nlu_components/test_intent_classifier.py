"""The topic-aware intent classifier's label handling (the model itself is measured by make eval)."""
from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from nlu_components.intent_classifier import coarse_ranking, fine_label


def test_faq_topics_are_learned_as_their_own_classes() -> None:
    assert fine_label(Message(data={"text": "ride along?", "intent": "faq",
                                    "intent_response_key": "faq/ride_along"})) == "faq/ride_along"
    assert fine_label(Message(data={"text": "hi", "intent": "greet"})) == "greet"


def test_topic_probabilities_add_up_into_the_retrieval_intent() -> None:
    # No single topic beats report_incident, but together the FAQ topics do.
    ranking = coarse_ranking(["faq/hours", "faq/address", "report_incident", "greet"], [0.25, 0.2, 0.4, 0.15])
    assert [r["name"] for r in ranking] == ["faq", "report_incident", "greet"]
    assert ranking[0]["confidence"] == pytest.approx(0.45)
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)

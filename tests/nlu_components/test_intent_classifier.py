"""The topic-aware intent classifier's label handling (the model itself is measured by make eval)."""
from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from nlu_components.intent_classifier import coarse_ranking, fine_label, selector_output


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


def test_the_best_topic_is_the_response_the_faq_action_utters() -> None:
    output = selector_output(["faq/hours", "faq/address", "report_incident"], [0.3, 0.1, 0.6])
    assert output["all_retrieval_intents"] == ["faq"]
    response = output["faq"]["response"]
    # What Rasa's ActionRetrieveResponse reads to pick the answer:
    assert response["utter_action"] == "utter_faq/hours"
    assert response["intent_response_key"] == "faq/hours"
    # Renormalised within the FAQ topics (0.3 of 0.4), not diluted by the other intents:
    assert response["confidence"] == pytest.approx(0.75)
    assert [r["intent_response_key"] for r in output["faq"]["ranking"]] == ["faq/hours", "faq/address"]


def test_no_selector_output_without_topics() -> None:
    assert selector_output(["greet", "report_incident"], [0.5, 0.5]) == {}

"""Intent classifier that learns FAQ topics as their own classes and answers with intents.

The retrieval intent `faq` covers twenty unrelated topics (ride-alongs, station hours, how to
file a complaint...). Learned as one class it is a huge, many-shaped region that swallows
neighbouring intents ("how do i report ..." -> faq). Here a class-balanced logistic regression
learns each `faq/<topic>` as its own class; at prediction the topic probabilities are summed
back into `faq`, so the rest of Rasa (rules, the FAQ answer action) sees the usual intents.

The same probabilities, renormalised over the topics, also answer the response selector's question
(which FAQ answer): the classifier writes Rasa's `response_selector` output itself, in the shape
`ActionRetrieveResponse` reads, so no separate TensorFlow ResponseSelector is trained (it was most
of the training time and ~2 ms of every parse). docs/nlu.md has the measurements that chose it.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Dict, List, Text, Tuple

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH
import numpy as np
from scipy.sparse import csr_matrix

TOPIC_SEPARATOR = "/"
SELECTOR_RANKING_LENGTH = 10


def fine_label(example: Message) -> Text:
    """`faq/ride_along` for a retrieval example, the intent otherwise."""
    return example.get(INTENT_RESPONSE_KEY) or example.get(INTENT)


def coarse_ranking(labels: List[Text], probabilities: List[float]) -> List[Dict[Text, Any]]:
    """Probabilities per intent, topics summed into their retrieval intent, best first."""
    totals: Dict[Text, float] = defaultdict(float)
    for label, probability in zip(labels, probabilities):
        totals[label.split(TOPIC_SEPARATOR, 1)[0]] += float(probability)
    return sorted(({"name": name, "confidence": value} for name, value in totals.items()),
                  key=lambda item: -item["confidence"])


def selector_output(labels: List[Text], probabilities: List[float]) -> Dict[Text, Any]:
    """Rasa's `response_selector` parse output for each retrieval intent (`faq`), from the topic
    probabilities renormalised within the intent; {} when the model knows no topics."""
    by_intent: Dict[Text, List[Tuple[Text, float]]] = defaultdict(list)
    for label, probability in zip(labels, probabilities):
        if TOPIC_SEPARATOR in label:
            by_intent[label.split(TOPIC_SEPARATOR, 1)[0]].append((label, float(probability)))
    if not by_intent:
        return {}
    output: Dict[Text, Any] = {"all_retrieval_intents": sorted(by_intent)}
    for intent, topics in by_intent.items():
        total = sum(p for _, p in topics) or 1.0
        ranked = sorted(((key, p / total) for key, p in topics), key=lambda item: -item[1])
        best, confidence = ranked[0]
        utter = f"utter_{best}"
        output[intent] = {
            "response": {"responses": [], "confidence": confidence, "intent_response_key": best,
                         "utter_action": utter, "template_name": utter},
            "ranking": [{"id": index, "confidence": p, "intent_response_key": key}
                        for index, (key, p) in enumerate(ranked[:SELECTOR_RANKING_LENGTH])],
        }
    return output


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TopicAwareIntentClassifier(LogisticRegressionClassifier):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # C: inverse regularization strength; 10 beat 1 on the validation split (docs/nlu.md).
        return {**LogisticRegressionClassifier.get_default_config(), "C": 10.0, "max_iter": 1000}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clf.set_params(C=self.config["C"])

    def _fortran_coefficients(self) -> None:
        """sparse features @ coef_.T: with coef_ in Fortran order the transpose is contiguous and
        scipy does not copy the whole (features x classes) matrix on every message (~4 ms)."""
        if hasattr(self.clf, "coef_"):
            self.clf.coef_ = np.asfortranarray(self.clf.coef_)

    def train(self, training_data: TrainingData) -> Resource:
        resource = super().train(training_data)
        self._fortran_coefficients()
        return resource

    @classmethod
    def load(cls, *args: Any, **kwargs: Any) -> "TopicAwareIntentClassifier":
        component = super().load(*args, **kwargs)
        component._fortran_coefficients()
        return component

    def _create_training_matrix(self, training_data: TrainingData) -> Tuple[csr_matrix, List[str]]:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get("text")]
        return self._create_X(examples), [fine_label(e) for e in examples]

    def process(self, messages: List[Message]) -> List[Message]:
        if not messages:
            return messages
        probabilities = self.clf.predict_proba(self._create_X(messages))
        labels = list(self.clf.classes_)
        for message, row in zip(messages, probabilities):
            ranking = coarse_ranking(labels, list(row))
            if self.config[RANKING_LENGTH] > 0:
                ranking = ranking[: self.config[RANKING_LENGTH]]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
            selector = selector_output(labels, list(row))
            if selector:
                message.set("response_selector", selector, add_to_output=True)
        return messages

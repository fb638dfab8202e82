"""The fallback classifier, with a higher bar for intents that change something.

Rasa's FallbackClassifier sends a message to `nlu_fallback` ("Did you mean ...?", with the best
guesses as a menu) below one threshold for every intent. A message from another domain ("drop
my 6pm pilates", "cancel my order") can still land on an intent that acts on the resident's
behalf (drop a sign-up, start a report, hand off) at a middling confidence. Those intents need
more confidence here; below it the resident gets the "Did you mean" menu, which is the
confirmation: nothing is started or dropped on a guess. The thresholds were chosen on the
evaluation sets' dev split (docs/nlu.md).
"""
from __future__ import annotations

from typing import Any, Dict, Text, Tuple

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message

ACTION_THRESHOLDS_KEY = "action_thresholds"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ActionAwareFallbackClassifier(FallbackClassifier):
    """`threshold` for every intent, `action_thresholds` (intent -> threshold) where higher."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**FallbackClassifier.get_default_config(), ACTION_THRESHOLDS_KEY: {}}

    def _nlu_confidence_below_threshold(self, message: Message) -> Tuple[bool, float]:
        intent = message.data.get(INTENT) or {}
        confidence = float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
        thresholds = self.component_config.get(ACTION_THRESHOLDS_KEY) or {}
        wanted = max(float(self.component_config["threshold"]),
                     float(thresholds.get(intent.get(INTENT_NAME_KEY), 0.0)))
        return confidence < wanted, confidence

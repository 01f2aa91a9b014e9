"""The shape shared by this project's Rasa NLU components that correct the trained classifier's intent.

Each runs after the classifiers (config.yml), needs no training and no configuration, and overrides the
intent of some typed messages (`override`); button payloads ("/intent{...}") are left to Rasa. Runs in
the Rasa environment only.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message


def set_intent(message: Message, name: str, confidence: float) -> None:
    """Make `name` the message's intent, first in the ranking."""
    intent = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}
    others = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != name]
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [intent, *others], add_to_output=True)


class IntentOverride(GraphComponent, IntentClassifier):
    """Base of the components that may override a trained classifier's intent."""

    @staticmethod
    def override(message: Message) -> None:
        """Change the message's intent where this component knows better (subclasses)."""
        raise NotImplementedError

    @classmethod
    def required_components(cls) -> list[type]:
        """Runs after a trained classifier, whose intent it may override."""
        return [IntentClassifier]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IntentOverride:
        """No configuration, nothing to load."""
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        """Override the intents this component is sure about."""
        for message in messages:
            self.override(message)
        return messages

"""Rasa NLU component: a message holding a masked secret is `share_secret`, whatever the classifier thought.

Channels mask numbers before Rasa parses anything (bot/privacy.py), and the classifier cannot tell "[mã số]"
from the words "mã số" (the tokenizer drops the brackets). So this component, placed after the classifiers in
config.yml, decides from the placeholders (bot/safety.py): a resident who types an OTP or ID number inside a
greeting or a thank-you is still routed to the action that warns them. Button payloads ("/intent{...}") are
left to Rasa. Runs in the Rasa environment only.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.safety import is_secret

SHARE_SECRET = "share_secret"


def secret_intent(message: Message) -> None:
    """Set `share_secret` (first in the ranking, confidence 1) on a typed message that holds a secret."""
    text = message.get(TEXT) or ""
    if text.startswith("/") or not is_secret(text):
        return
    intent = {INTENT_NAME_KEY: SHARE_SECRET, PREDICTED_CONFIDENCE_KEY: 1.0}
    others = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != SHARE_SECRET]
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [intent, *others], add_to_output=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SecretIntentClassifier(GraphComponent, IntentClassifier):
    """Overrides the intent of messages that hold a masked OTP, passcode, ID or card number."""

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
    ) -> SecretIntentClassifier:
        """No configuration, nothing to load."""
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        """Override the intent where a secret was masked."""
        for message in messages:
            secret_intent(message)
        return messages

"""Rasa NLU component: a message holding a masked secret is `share_secret`, whatever the classifier thought.

Channels mask numbers before Rasa parses anything (bot/core/privacy/), and the classifier cannot tell "[mã số]"
from the words "mã số" (the tokenizer drops the brackets). So this component, placed after the classifiers in
config.yml, decides from the placeholders (bot/replies/safety.py): a resident who types an OTP or ID number inside a
greeting or a thank-you is still routed to the action that warns them. Button payloads ("/intent{...}") are
left to Rasa. Runs in the Rasa environment only.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.rasa_side.nlu.override import IntentOverride, set_intent
from bot.replies.safety import is_secret

SHARE_SECRET = "share_secret"


def secret_intent(message: Message) -> None:
    """Set `share_secret` (first in the ranking, confidence 1) on a typed message that holds a secret."""
    text = message.get(TEXT) or ""
    if text.startswith("/") or not is_secret(text):
        return
    set_intent(message, SHARE_SECRET, 1.0)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SecretIntentClassifier(IntentOverride):
    """Overrides the intent of messages that hold a masked OTP, passcode, ID or card number."""

    override = staticmethod(secret_intent)

"""First in the NLU pipeline: hands each typed message to bot/rasa_side/prefetch_sender.py, which starts the
action server's search on it while the rest of Rasa's pipeline and its policies run. Changes nothing in the message.
Without ACTION_SERVER_URL (rasa test, rasa shell --nlu) it does nothing."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa_side import prefetch_sender
from bot.rasa_side.prefetch_sender import PrefetchSender


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class SearchPrefetcher(GraphComponent):
    """Sends typed messages ahead to the action server's search; a pass-through for Rasa."""

    def __init__(self, sender: PrefetchSender | None) -> None:
        self.sender = sender

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SearchPrefetcher:
        """The process's sender, to the action server of its environment (shared with the REST doors)."""
        return cls(prefetch_sender.shared())

    def process(self, messages: list[Message]) -> list[Message]:
        """Queue each message's text for the action server; never waits."""
        if self.sender is not None:
            for message in messages:
                self.sender.send(str(message.get(TEXT) or ""))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples are not sent anywhere."""
        return training_data

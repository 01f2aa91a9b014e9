"""The action that points the resident to a person."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from bot.handoff import Contacts, handoff_text
from bot.knowledge.model import topic_of


def last_topic(tracker: Tracker) -> str | None:
    """The topic of the last answered entry ('vneid-...' -> 'vneid'), if any."""
    return topic_of(tracker.get_slot("last_entry") or "")


class ActionHandoff(Action):
    """Name the commune's digital-technology team, the police/one-stop desk and the right hotline."""

    def name(self) -> str:
        """Rasa's name for this action."""
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Reply with the contacts from the configured directory."""
        contacts = Contacts.load(services.settings().contacts_file)
        dispatcher.utter_message(text=handoff_text(contacts, last_topic(tracker)))
        return []

"""The greeting, and the short line for a second "alo" in a row: the full welcome once is enough."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.replies import topic_menu


def previous_intent(tracker: Tracker) -> str | None:
    """The intent of the resident's message before the latest one, or None."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    if len(users) < 2:
        return None
    return ((users[-2].get("parse_data") or {}).get("intent") or {}).get("name")


class ActionGreet(Action):
    """Welcome with what the bot can do; a greeting right after a greeting gets one line and the main topics."""

    def name(self) -> str:
        """Rasa's name for this action."""
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """utter_greet, or the short line when the resident greeted just before."""
        if previous_intent(tracker) == "greet":
            shown = topic_menu.nothing_to_read_reply()
            dispatcher.utter_message(text=shown.text, buttons=shown.buttons)
        else:
            dispatcher.utter_message(response="utter_greet")
        return []

"""The action behind guided mode: open a guide, move through it, and catch guide words that NLU
filed under another intent while a guide is open (the logic is in bot/replies/guide.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import commands, services
from actions.feedback import ActionFeedback
from actions.questions import BUSY, ActionAnswerQuestion
from bot.replies import followup, guide
from bot.search.service import SearchService

log = logging.getLogger(__name__)
# Intents whose rules send a message here only while a guide is open (data/rules.yml): when the message is
# not a guide command after all, it gets the reply its intent normally gets.
PLAIN_RESPONSES = {"thank": "utter_thank", "goodbye": "utter_goodbye"}


def requested_step(tracker: Tracker) -> int:
    """The step a "Làm tiếp" button asks for (`/guide{"entry_id": ..., "step": 3}`), else 1."""
    value = next(tracker.get_latest_entity_values("step"), None)
    try:
        return max(1, int(value)) if value is not None else 1
    except (TypeError, ValueError):
        return 1


class ActionGuide(Action):
    """Start a guide (button or "hướng dẫn từng bước") or apply a guide command."""

    def __init__(self, service: Callable[[], SearchService] = services.search_service) -> None:
        self._service = service

    def name(self) -> str:
        """Rasa's name for this action."""
        return "action_guide"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Reply with one step (or the end, or the common problems) and store the new position."""
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        try:
            by_id = self._service().searcher().by_id
        except Exception:
            log.exception("search service unavailable")
            dispatcher.utter_message(text=BUSY)
            return []
        if intent == "guide":
            typed = next(tracker.get_latest_entity_values("entry_id"), None) is None
            if typed and followup.names_a_task(tracker.latest_message.get("text") or ""):
                # "chỉ tôi từng bước cài VNeID": that task's guide (action_answer_question starts it), not the last one
                return await ActionAnswerQuestion(self._service).run(dispatcher, tracker, domain)
            return self._start(dispatcher, tracker, by_id)
        command = guide.command_from_value(next(tracker.get_latest_entity_values("guide_move"), None))
        if command is None:  # typed: "kẹt ở bước 3" names its step; other words move from the current one
            handled = commands.stuck_at_typed_step(dispatcher, tracker, by_id)
            if handled is not None:
                return handled
        command = command or guide.parse_command(tracker.latest_message.get("text") or "")
        if command is not None:
            return commands.run_command(dispatcher, tracker, by_id, command)
        return await self._not_a_command(intent, dispatcher, tracker, domain)

    def _start(self, dispatcher: CollectingDispatcher, tracker: Tracker, by_id: dict) -> list[dict[str, Any]]:
        asked = next(tracker.get_latest_entity_values("entry_id"), None)
        state = commands.guide_state(tracker)
        # "hướng dẫn từng bước" typed after an answer means that answer's entry.
        entry_id = asked or tracker.get_slot("last_entry") or (state.entry_id if state else None)
        entry = by_id.get(entry_id) if entry_id else None
        if not guide.has_guide(entry):
            if asked or entry is not None:
                commands.say(dispatcher, guide.start(entry) if entry else guide.stale())
                return []
            commands.say(dispatcher, guide.choose_entry())
            return []
        return commands.start_guide(dispatcher, entry, requested_step(tracker))

    async def _not_a_command(
        self, intent: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if intent == "feedback":
            return await ActionFeedback().run(dispatcher, tracker, domain)
        if intent == "goodbye":
            dispatcher.utter_message(response=PLAIN_RESPONSES[intent])
            return commands.state_events(None)
        if intent in PLAIN_RESPONSES:
            dispatcher.utter_message(response=PLAIN_RESPONSES[intent])
            return []
        # NLU took a question for a guide word: answer it as a question.
        return await ActionAnswerQuestion(self._service).run(dispatcher, tracker, domain)

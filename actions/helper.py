"""Actions of helper mode for community digital-technology team members (logic in bot/team/mode.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import commands, services
from actions.questions import BUSY, ActionAnswerQuestion
from bot.search.service import SearchService
from bot.team import mode as helper

log = logging.getLogger(__name__)


class ActionHelperLogin(Action):
    """Turn helper mode on when the typed code is one of BOT_HELPER_CODES."""

    def __init__(self, service: Callable[[], SearchService] = services.search_service) -> None:
        self._service = service

    def name(self) -> str:
        """Rasa's name for this action."""
        return "action_helper_login"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Verify the code (never logged) and set the `helper_mode` slot."""
        text = tracker.latest_message.get("text") or ""
        if helper.is_logout(text):
            return commands.logout(dispatcher, tracker)
        attempt = helper.login_attempt(text)
        if attempt is None:  # a sentence about the team that NLU took for a login: answer it
            return await ActionAnswerQuestion(self._service).run(dispatcher, tracker, domain)
        return commands.login(dispatcher, attempt, tracker)


class ActionHelperLogout(Action):
    """Turn helper mode off."""

    def name(self) -> str:
        """Rasa's name for this action."""
        return "action_helper_logout"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Clear the `helper_mode` slot."""
        return commands.logout(dispatcher, tracker)


class ActionPrintGuide(Action):
    """The printable page link of the open guide, or of the entry just answered."""

    def __init__(self, service: Callable[[], SearchService] = services.search_service) -> None:
        self._service = service

    def name(self) -> str:
        """Rasa's name for this action."""
        return "action_print_guide"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Reply with the link (pages are public knowledge-base content, so anyone may ask)."""
        try:
            by_id = self._service().searcher().by_id
        except Exception:
            log.exception("search service unavailable")
            dispatcher.utter_message(text=BUSY)
            return []
        asked = next(tracker.get_latest_entity_values("entry_id"), None)
        state = commands.guide_state(tracker)
        entry_id = asked or (state.entry_id if state else None) or tracker.get_slot("last_entry")
        entry = by_id.get(entry_id) if entry_id else None
        dispatcher.utter_message(text=helper.print_reply(entry, commands.public_url()))
        return []

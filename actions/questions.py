"""The action that answers questions from the knowledge base (or declines honestly)."""

from __future__ import annotations

import logging
from typing import Any, Callable

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from bot.answers import Reply, answer_entry, answer_question
from bot.feedback import append_jsonl
from bot.privacy import mask
from bot.search.service import SearchService

log = logging.getLogger(__name__)
BUSY = (
    "Xin lỗi, hệ thống tra cứu đang bận hoặc đang cập nhật. Bạn vui lòng thử lại sau ít phút, "
    "hoặc gõ “gặp người hỗ trợ” để được cán bộ giúp."
)


def requested_entry(tracker: Tracker) -> str | None:
    """An entry id carried by a button press (`/ask_question{"entry_id": ...}`)."""
    return next(tracker.get_latest_entity_values("entry_id"), None)


class ActionAnswerQuestion(Action):
    """Search the knowledge base for the latest message and reply with the answer and its source."""

    def __init__(self, service: Callable[[], SearchService] = services.search_service) -> None:
        self._service = service

    def name(self) -> str:
        """Rasa's name for this action."""
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Answer, clarify or decline; remember the answered entry for feedback and handoff."""
        text = tracker.latest_message.get("text") or ""
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        try:
            service = self._service()
            searcher = service.searcher()
            entry_id = requested_entry(tracker)
            if entry_id and entry_id in searcher.by_id:
                reply = answer_entry(searcher.by_id[entry_id], searcher.by_id)
            else:
                reply = answer_question(text, searcher, service.thresholds, intent)
        except Exception:
            log.exception("search failed")
            dispatcher.utter_message(text=BUSY)
            return []
        self._record(reply, text, intent, tracker)
        dispatcher.utter_message(text=reply.text, buttons=reply.buttons)
        return [SlotSet("last_entry", reply.entry_id)] if reply.entry_id else []

    @staticmethod
    def _record(reply: Reply, text: str, intent: str, tracker: Tracker) -> None:
        log.info("question intent=%s -> %s (%s)", intent, reply.entry_id or "declined", reply.reason)
        if reply.declined:
            append_jsonl(
                services.settings().unanswered_log,
                {"text": mask(text), "intent": intent, "reason": reply.reason, "sender": tracker.sender_id},
            )

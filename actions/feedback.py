"""The action that records the resident's judgement of the last answer."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from bot.core import limits
from bot.replies.answers import HUMAN_BUTTON
from bot.replies.feedback import is_helpful, may_record
from bot.store import offload

log = logging.getLogger(__name__)


class ActionFeedback(Action):
    """Thank for feedback; after a bad answer, offer a person."""

    def name(self) -> str:
        """Rasa's name for this action."""
        return "action_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Store the feedback against the last answered entry and reply."""
        helpful = is_helpful(
            next(tracker.get_latest_entity_values("helpful"), None), tracker.latest_message.get("text") or ""
        )
        address = limits.client_address(tracker.latest_message.get("metadata"))
        try:
            if may_record(limits.shared(), tracker.sender_id, address):  # a flood is thanked, not stored
                entry_id = tracker.get_slot("last_entry")  # written off the reply's path (bot/store/offload.py)
                offload.in_background("feedback", lambda: services.events().record_feedback(entry_id, helpful))
        except Exception:  # thank the resident even if the statistics could not be saved
            log.exception("could not record feedback")
        if helpful:
            dispatcher.utter_message(text="Cảm ơn bạn đã phản hồi! Bạn cần hỏi thêm gì cứ nhắn nhé.")
        else:
            dispatcher.utter_message(
                text="Xin lỗi vì câu trả lời chưa đúng ý bạn. Bạn thử hỏi lại cụ thể hơn, "
                "hoặc gặp người hỗ trợ để được giúp trực tiếp.",
                buttons=[HUMAN_BUTTON],
            )
        return []

"""The action that answers questions from the knowledge base (or declines honestly)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import commands, menus, screenshot, services
from bot.core import limits
from bot.knowledge.model import Entry, topic_of
from bot.replies import followup, guide, topic_menu
from bot.replies.answers import Reply, answer_entry, answer_follow_up, answer_question
from bot.replies.question_flood import keeps_text
from bot.replies.safe_reply import safe_reply
from bot.search.service import SearchService
from bot.store import offload
from bot.team.mode import notes_message

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
        handled = commands.helper_turn(dispatcher, tracker)  # "/helper MA123" filed under ask_question by NLU
        if handled is not None:
            return handled
        if screenshot.is_screenshot(tracker.latest_message):
            return self._screenshot_turn(dispatcher, tracker, text, intent)
        try:
            service = self._service()
            searcher = service.searcher()
            handled = commands.guide_turn(dispatcher, tracker, searcher.by_id)  # "tiep" while a guide is open
            if handled is None:  # "làm theo", "kẹt ở bước 2" right after an answer with steps
                handled = commands.after_answer_turn(dispatcher, tracker, searcher.by_id)
            if handled is not None:
                return handled
            entry_id = requested_entry(tracker) or topic_menu.picked(text, tracker.get_slot("offered") or [])
            if not entry_id:
                handled = self._menu_turn(dispatcher, text, searcher.by_id)  # "vneid" alone, "?", an emoji
                if handled is not None:
                    return handled
            last = searcher.by_id.get(str(tracker.get_slot("last_entry") or ""))
            reading = followup.read(text, last)
            if entry_id and entry_id in searcher.by_id:
                reply = answer_entry(searcher.by_id[entry_id], searcher.by_id)
            elif last is not None and reading is not None and reading.kind is followup.Kind.FOLLOW_UP:
                reply = answer_follow_up(text, last, searcher, service.thresholds, reading.aspect, intent)
            else:
                # a typed OTP, ID or card number (masked by the channel) gets a warning before the answer
                reply = safe_reply(text, lambda q: answer_question(q, searcher, service.thresholds, intent),
                                   searcher.by_id)
        except Exception:
            log.exception("search failed")
            dispatcher.utter_message(text=BUSY)
            return []
        self._record(reply, text, intent, tracker)
        unsure = reply.declined or reply.reason == "low_confidence"  # a sure answer to a named task stands
        topic = topic_menu.vague_problem(text) if unsure and reply.reason != "follow_up_clarify" else None
        if topic is not None:  # "app vneid cứ báo gì đó không vào được": in scope, just unnamed
            shown = topic_menu.menu(topic, self._tasks(topic, searcher.by_id), vague=True)
            dispatcher.utter_message(text=shown.text, buttons=shown.buttons)
            return [SlotSet("offered", shown.offered)]
        entry = searcher.by_id.get(reply.entry_id or "")
        if entry is not None and entry.steps and reply.reason == "answer" and followup.asks_for_steps(text):
            return commands.start_guide(dispatcher, entry)  # "chỉ tôi từng bước …": step 1, not the whole list
        dispatcher.utter_message(text=reply.text, buttons=reply.buttons)
        if not reply.entry_id:
            return self._guide_still_open(dispatcher, tracker, searcher.by_id)
        if tracker.get_slot("helper_mode"):  # team members also get notes and the printable link
            notes = notes_message(searcher.by_id[reply.entry_id], commands.public_url())
            if notes:
                dispatcher.utter_message(text=notes)
        events = [SlotSet("last_entry", reply.entry_id)]
        if commands.guide_state(tracker) is not None:  # a new question leaves the open guide
            events += commands.state_events(None)
        return events

    def _screenshot_turn(self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str,
                         intent: str) -> list[dict[str, Any]]:
        """A picture's text: the entry whose app message it shows, else a search (the channel says what it read)."""
        try:
            service = self._service()
            searcher = service.searcher()
            reply = screenshot.answer_screenshot(
                text, searcher.by_id, lambda q: answer_question(q, searcher, service.thresholds, intent))
        except Exception:
            log.exception("search failed")
            dispatcher.utter_message(text=BUSY)
            return []
        self._record(reply, text, intent, tracker)
        dispatcher.utter_message(text=reply.text, buttons=reply.buttons)
        return [SlotSet("last_entry", reply.entry_id)] if reply.entry_id else []

    @staticmethod
    def _tasks(topic: str, by_id: dict[str, Entry]) -> list[Entry]:
        return topic_menu.ranked_tasks(topic, by_id, menus.defaults().get(topic, []), menus.asked(),
                                       menus.pinned(topic))

    def _menu_turn(self, dispatcher: CollectingDispatcher, text: str,
                   by_id: dict[str, Entry]) -> list[dict[str, Any]] | None:
        """A bare topic word gets its most asked tasks; "?" or an emoji one line and the main topics."""
        if topic_menu.has_nothing_to_read(text):
            shown = topic_menu.nothing_to_read_reply()
        elif (topic := topic_menu.bare_topic(text)) is not None:
            shown = topic_menu.menu(topic, self._tasks(topic, by_id))
        else:
            return None
        dispatcher.utter_message(text=shown.text, buttons=shown.buttons)
        return [SlotSet("offered", shown.offered or None)]

    @staticmethod
    def _guide_still_open(dispatcher: CollectingDispatcher, tracker: Tracker, by_id: dict) -> list[dict[str, Any]]:
        """After a declined message during a guide: remind where the resident is, keep the guide open."""
        state = commands.guide_state(tracker)
        entry = by_id.get(state.entry_id) if state else None
        if state is not None and entry is not None and entry.steps:
            commands.say(dispatcher, guide.resume_hint(entry, state))
        return []

    @staticmethod
    def _record(reply: Reply, text: str, intent: str, tracker: Tracker) -> None:
        """Log the outcome; keep the (masked) question for admins when the bot was not sure."""
        log.info("question intent=%s -> %s (%s)", intent, reply.entry_id or "declined", reply.reason)
        if reply.confidence is None:  # a button press, not a search
            return
        outcome = ("clarify" if reply.reason == "clarify" else "declined") if reply.declined else (
            "low_confidence" if reply.reason == "low_confidence" else "answered")
        if outcome != "answered" and not keeps_text(limits.shared(), tracker.sender_id,
                                                    limits.client_address(tracker.latest_message.get("metadata"))):
            text = ""  # one sender's flood is counted, not kept for the unanswered list (bot/replies/question_flood.py)
        # off the reply's path: a locked or unreachable store costs the statistics, never the answer
        offload.in_background("question log", lambda: services.events().record_question(
            outcome, text, reply.entry_id, topic_of(reply.entry_id or ""), reply.confidence))

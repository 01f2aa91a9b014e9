"""The action that answers questions from the knowledge base (or declines honestly)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import commands, menus, screenshot, services
from bot.core import limits
from bot.knowledge.model import Entry, topic_of
from bot.replies import followup, guide, topic_menu, vague
from bot.replies.answers import Reply, answer_entry, answer_follow_up, answer_question
from bot.replies.question_flood import keeps_text
from bot.replies.safe_reply import safe_reply
from bot.replies.safety import notice_for
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


@dataclass
class Turn:
    """One message to action_answer_question: what the handlers below read, and where they reply."""

    dispatcher: CollectingDispatcher
    tracker: Tracker
    service: SearchService
    text: str = ""
    intent: str = ""

    @property
    def by_id(self) -> dict[str, Entry]:
        return self.service.searcher().by_id


Events = list[dict[str, Any]]


def question_reply(text: str, service: SearchService, intent: str) -> Reply:
    """A message searched as a question: the reply question_turn gives, and what /search/warm computes ahead of it
    (actions/warm_route.py), so both embed exactly the same texts."""
    searcher = service.searcher()
    return safe_reply(followup.searched_task(text),  # "chỉ tôi từng bước cài VNeID": "cài VNeID"
                      lambda q: answer_question(q, searcher, service.thresholds, intent), searcher.by_id)

Handler = Callable[["ActionAnswerQuestion", Turn], Events | None]


class ActionAnswerQuestion(Action):
    """Search the knowledge base for the latest message and reply with the answer and its source.

    A turn is a chain of small handlers tried in order (`CHAIN`); the first that returns events has handled it. Adding
    a kind of turn means adding a handler to the chain, not editing a long `run`."""

    def __init__(self, service: Callable[[], SearchService] = services.search_service) -> None:
        self._service = service

    def name(self) -> str:
        """Rasa's name for this action."""
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Answer, clarify or decline; remember the answered entry for feedback and handoff."""
        handled = commands.helper_turn(dispatcher, tracker)  # "/helper MA123" filed under ask_question by NLU
        if handled is not None:
            return handled
        try:
            turn = Turn(dispatcher, tracker, self._service(), tracker.latest_message.get("text") or "",
                        (tracker.latest_message.get("intent") or {}).get("name") or "")
            turn.service.searcher()  # an index must be serving before any handler replies
            for handler in CHAIN:
                events = handler(self, turn)
                if events is not None:
                    return events
        except Exception:
            log.exception("search failed")
            dispatcher.utter_message(text=BUSY)
            return []
        raise AssertionError("the last handler answers every turn")  # pragma: no cover

    # ---- the handlers, in CHAIN's order -------------------------------------------------------------------------

    def screenshot_turn(self, turn: Turn) -> Events | None:
        """A picture's text: the entry whose app message it shows, else a search (the channel says what it read)."""
        if not screenshot.is_screenshot(turn.tracker.latest_message):
            return None
        reply = screenshot.answer_screenshot(turn.text, turn.by_id, lambda q: answer_question(
            q, turn.service.searcher(), turn.service.thresholds, turn.intent))
        self._record(reply, turn.text, turn.intent, turn.tracker)
        turn.dispatcher.utter_message(text=reply.text, buttons=reply.buttons)
        return [SlotSet("last_entry", reply.entry_id)] if reply.entry_id else []

    def guide_turn(self, turn: Turn) -> Events | None:
        """A guide command ("tiep", "ko dc") while a guide is open."""
        return commands.guide_turn(turn.dispatcher, turn.tracker, turn.by_id)

    def after_answer_turn(self, turn: Turn) -> Events | None:
        """"làm theo", "kẹt ở bước 2" right after an answer with steps."""
        return commands.after_answer_turn(turn.dispatcher, turn.tracker, turn.by_id)

    def button_turn(self, turn: Turn) -> Events | None:
        """A button's entry, or "cái thứ 2" typed after a menu: that entry's answer."""
        entry_id = requested_entry(turn.tracker) or topic_menu.picked(turn.text, turn.tracker.get_slot("offered") or [])
        if not entry_id or entry_id not in turn.by_id:
            return None
        return self._reply(turn, answer_entry(turn.by_id[entry_id], turn.by_id))

    def menu_turn(self, turn: Turn) -> Events | None:
        """A bare topic word gets its most asked tasks; "?" or an emoji one line and the main topics."""
        if topic_menu.has_nothing_to_read(turn.text):
            shown = topic_menu.nothing_to_read_reply()
        elif (topic := topic_menu.bare_topic(turn.text)) is not None:
            shown = topic_menu.menu(topic, self._tasks(topic, turn), about=topic_menu.subject_named(turn.text))
        else:
            return None
        turn.dispatcher.utter_message(text=shown.text, buttons=shown.buttons)
        return [SlotSet("offered", shown.offered or None)]

    def follow_up_turn(self, turn: Turn) -> Events | None:
        """A short follow-up ("có mất phí không?") answered within the last answer's matter."""
        last = commands.context_entry(turn.tracker, turn.by_id)
        reading = followup.read(turn.text, last)
        if last is None or reading is None or reading.kind is not followup.Kind.FOLLOW_UP:
            return None
        searcher = turn.service.searcher()
        return self._reply(turn, answer_follow_up(turn.text, last, searcher, turn.service.thresholds,
                                                  reading.aspect, turn.intent))

    def vague_turn(self, turn: Turn) -> Events | None:
        """A topic and a trouble named, no task ("vneid của tôi bị lỗi rồi"): the topic's menu as a question back, even
        where the search would be sure of an entry (a typed secret goes to question_turn, for its warning)."""
        if notice_for(turn.text) is not None:
            return None
        topic = vague.vague_topic(turn.text, turn.service.searcher().lexical.share)
        if topic is None:
            return None
        self._log("clarify", turn.text, None, topic, None, turn.tracker)
        return self._vague_menu(turn, topic)

    def question_turn(self, turn: Turn) -> Events:
        """Any other message: searched as a question (a typed secret first gets its warning)."""
        return self._reply(turn, question_reply(turn.text, turn.service, turn.intent))

    # ---- replying ------------------------------------------------------------------------------------------------

    def _reply(self, turn: Turn, reply: Reply) -> Events:
        """Record the outcome, then say it: a vague problem's menu, a guide for "từng bước", or the reply itself."""
        dispatcher, tracker, text, by_id = turn.dispatcher, turn.tracker, turn.text, turn.by_id
        self._record(reply, text, turn.intent, tracker)
        # A trouble in a topic the search could not answer nor ask back about: the topic's menu rather than a decline.
        # An answer, even an unsure one, and the search's own question back (its closest entries) stand.
        declined = reply.declined and reply.reason not in ("clarify", "follow_up_clarify")
        topic = vague.troubled_topic(text) if declined else None
        if topic is not None:
            return self._vague_menu(turn, topic)
        entry = by_id.get(reply.entry_id or "")
        if entry is not None and entry.steps and reply.reason == "answer" and followup.asks_for_steps(text):
            return commands.start_guide(dispatcher, entry)  # "chỉ tôi từng bước …": step 1, not the whole list
        dispatcher.utter_message(text=reply.text, buttons=reply.buttons)
        if entry is None:
            return self._guide_still_open(dispatcher, tracker, by_id)
        if tracker.get_slot("helper_mode"):  # team members also get notes and the printable link
            notes = notes_message(entry, commands.public_url())
            if notes:
                dispatcher.utter_message(text=notes)
        events = [SlotSet("last_entry", entry.id)]
        if commands.guide_state(tracker) is not None:  # a new question leaves the open guide
            events += commands.state_events(None)
        return events

    def _vague_menu(self, turn: Turn, topic: str) -> Events:
        aid = turn.by_id.get(menus.first_aid().get(topic, "")) if vague.app_trouble(turn.text) else None
        shown = topic_menu.menu(topic, self._tasks(topic, turn), vague=True, about=topic_menu.subject_named(turn.text),
                                first_aid=aid)
        turn.dispatcher.utter_message(text=shown.text, buttons=shown.buttons)
        return [SlotSet("offered", shown.offered)]

    @staticmethod
    def _tasks(topic: str, turn: Turn) -> list[Entry]:
        """The topic's menu, narrowed to the subject the message names, if any ("app etax", "thẻ bhyt trên vneid")."""
        ranked = topic_menu.ranked_tasks(topic, turn.by_id, menus.defaults().get(topic, []), menus.asked(),
                                         menus.pinned(topic))
        searcher = turn.service.searcher()
        scores = searcher.lexical.scores(turn.text).tolist()
        closeness = dict(zip((e.id for e in searcher.entries), scores, strict=True))
        return topic_menu.narrowed(topic, turn.text, turn.by_id, ranked, closeness)

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
        ActionAnswerQuestion._log(outcome, text, reply.entry_id, topic_of(reply.entry_id or ""), reply.confidence,
                                  tracker)

    @staticmethod
    def _log(outcome: str, text: str, entry_id: str | None, topic: str | None, confidence: float | None,
             tracker: Tracker) -> None:
        """One question in the store's log; the (masked) text kept when the bot was not sure."""
        if outcome != "answered" and not keeps_text(limits.shared(), tracker.sender_id,
                                                    limits.client_address(tracker.latest_message.get("metadata"))):
            text = ""  # one sender's flood is counted, not kept for the unanswered list (bot/replies/question_flood.py)
        # off the reply's path: a locked or unreachable store costs the statistics, never the answer
        offload.in_background("question log", lambda: services.events().record_question(
            outcome, text, entry_id, topic, confidence))


# The order of a turn: helper login is checked in run, before the service is needed.
CHAIN: tuple[Handler, ...] = (
    ActionAnswerQuestion.screenshot_turn,
    ActionAnswerQuestion.guide_turn,
    ActionAnswerQuestion.after_answer_turn,
    ActionAnswerQuestion.button_turn,
    ActionAnswerQuestion.menu_turn,
    ActionAnswerQuestion.follow_up_turn,
    ActionAnswerQuestion.vague_turn,
    ActionAnswerQuestion.question_turn,
)

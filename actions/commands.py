"""Messages read by rule rather than by the intent classifier: guide commands while a guide is open
("tiep", "ko dc", "quay lai") and the helper-mode login and logout. Short words like these are easily
filed under another intent, so every action that may receive them checks here first.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from bot.core import limits
from bot.knowledge.model import Entry
from bot.replies import followup, guide
from bot.team import mode as helper

DEFAULT_PUBLIC_URL = "http://127.0.0.1:5005"  # `make run`'s Rasa; set BOT_PUBLIC_URL for links that leave this machine


def public_url() -> str:
    """Base address of the printable guide pages."""
    return services.settings().public_url or DEFAULT_PUBLIC_URL


def guide_state(tracker: Tracker) -> guide.GuideState | None:
    """The open guide, from the slots (None when no guide is open)."""
    entry_id, step = tracker.get_slot("guide_entry"), tracker.get_slot("guide_step")
    if not entry_id:
        return None
    try:
        return guide.GuideState(str(entry_id), max(1, int(float(step or 1))))
    except (TypeError, ValueError):
        return guide.GuideState(str(entry_id), 1)


def state_events(state: guide.GuideState | None) -> list[dict[str, Any]]:
    """Slots for a new position (both cleared when the guide is over)."""
    if state is None:
        return [SlotSet("guide_entry", None), SlotSet("guide_step", None)]
    return [SlotSet("guide_entry", state.entry_id), SlotSet("guide_step", float(state.step))]


def say(dispatcher: CollectingDispatcher, reply: guide.GuideReply) -> None:
    """Send a guide reply."""
    dispatcher.utter_message(text=reply.text, buttons=reply.buttons)


def run_command(
    dispatcher: CollectingDispatcher, tracker: Tracker, by_id: dict[str, Entry], command: guide.Command
) -> list[dict[str, Any]]:
    """Apply a guide command to the open guide (or say that none is open)."""
    state = guide_state(tracker)
    if state is None:
        handled = after_answer_turn(dispatcher, tracker, by_id)
        if handled is not None:
            return handled
        say(dispatcher, guide.no_guide())
        return []
    entry = by_id.get(state.entry_id)
    reply = guide.apply(entry, state, command) if entry is not None else guide.stale()
    say(dispatcher, reply)
    return state_events(reply.state)


def start_guide(
    dispatcher: CollectingDispatcher, entry: Entry, step: int = 1
) -> list[dict[str, Any]]:
    """Open an entry's guide; the entry also becomes the one feedback and handoff refer to."""
    reply = guide.start(entry, step)
    say(dispatcher, reply)
    return [*state_events(reply.state), SlotSet("last_entry", entry.id)]


def helper_turn(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]] | None:
    """Handle a helper login or logout typed in any form; None when the message is neither."""
    text = tracker.latest_message.get("text") or ""
    if helper.is_logout(text):
        return logout(dispatcher, tracker)
    attempt = helper.login_attempt(text)
    if attempt is not None:
        return login(dispatcher, attempt, tracker)
    return None


def login(dispatcher: CollectingDispatcher, attempt: helper.LoginAttempt, tracker: Tracker) -> list[dict[str, Any]]:
    """Check the code against BOT_HELPER_CODES, with the lock-out after wrong codes (bot.team.mode); the code itself is
    never logged nor kept in a slot."""
    address = limits.client_address(tracker.latest_message.get("metadata"))
    text, ok = helper.limited_login_reply(attempt, services.settings().helper_codes, limits.shared(),
                                          tracker.sender_id, address)
    dispatcher.utter_message(text=text)
    return [SlotSet("helper_mode", True)] if ok else []


def logout(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """Leave helper mode."""
    dispatcher.utter_message(text=helper.GOODBYE if tracker.get_slot("helper_mode") else helper.NOT_HELPER)
    return [SlotSet("helper_mode", False)]


def guide_turn(
    dispatcher: CollectingDispatcher, tracker: Tracker, by_id: dict[str, Entry]
) -> list[dict[str, Any]] | None:
    """A typed guide command while a guide is open; None when the message is not one."""
    if guide_state(tracker) is None:
        return None
    handled = stuck_at_typed_step(dispatcher, tracker, by_id)
    if handled is not None:
        return handled
    command = guide.parse_command(tracker.latest_message.get("text") or "")
    return run_command(dispatcher, tracker, by_id, command) if command else None


def stuck_at_typed_step(
    dispatcher: CollectingDispatcher, tracker: Tracker, by_id: dict[str, Entry]
) -> list[dict[str, Any]] | None:
    """"kẹt ở bước 3" typed while a guide is open: that step's common problems, and the guide moves there (the
    step the resident names, not the one the guide is at). None when the message names no step of the open guide."""
    state = guide_state(tracker)
    entry = by_id.get(state.entry_id) if state else None
    reading = followup.read(tracker.latest_message.get("text") or "", entry)
    if entry is None or reading is None or reading.kind is not followup.Kind.STUCK or not guide.has_guide(entry):
        return None
    reply = guide.stuck(entry, reading.step)
    say(dispatcher, reply)
    return state_events(reply.state)


def answered_last_turn(tracker: Tracker) -> str | None:
    """The entry the bot answered with in reply to the resident's previous message, else None: "tiếp" or "kẹt ở
    bước 2" lean on an answer only right after it, not ten turns later."""
    seen_latest_user = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            if seen_latest_user:
                return None
            seen_latest_user = True
        elif seen_latest_user and kind == "slot" and event.get("name") == "last_entry" and event.get("value"):
            return str(event["value"])
    return None


def context_entry(tracker: Tracker, by_id: dict[str, Entry], right_after: bool = False) -> Entry | None:
    """The last answer a message may lean on: the `last_entry` slot for a follow-up, only the previous turn's answer
    for "tiếp" or "kẹt ở bước 2" (`right_after`). The one place that decides: None when BOT_CONVERSATION_CONTEXT is
    off, so the bot can be measured without the last answer as context (make eval-conversations)."""
    if not services.settings().conversation_context:
        return None
    entry_id = answered_last_turn(tracker) if right_after else tracker.get_slot("last_entry")
    return by_id.get(str(entry_id)) if entry_id else None


def after_answer_turn(
    dispatcher: CollectingDispatcher, tracker: Tracker, by_id: dict[str, Entry]
) -> list[dict[str, Any]] | None:
    """Right after an answer with steps: "tiếp" / "làm theo" / "ok" start its guide, "kẹt ở bước 3" opens that
    step's common problems (bot/replies/followup.py). None when the message is neither."""
    last = context_entry(tracker, by_id, right_after=True)
    reading = followup.read(tracker.latest_message.get("text") or "", last)
    if last is None or reading is None or not last.steps:
        return None
    if reading.kind is followup.Kind.START_GUIDE:
        return start_guide(dispatcher, last)
    if reading.kind is followup.Kind.STUCK:
        reply = guide.stuck(last, reading.step)
        say(dispatcher, reply)
        return [*state_events(reply.state), SlotSet("last_entry", last.id)]
    return None

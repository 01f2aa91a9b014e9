"""A team member records a resident they helped ("ghi nhận: giúp bà Lan kích hoạt VNeID").

The logic is in bot/team/records.py."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.handoff import COMMUNE_SLOT, directory
from bot.core.privacy import mask
from bot.knowledge.model import TOPICS, topic_of
from bot.store import offload
from bot.store.activity import HelperActivity
from bot.team import records as help_records

log = logging.getLogger(__name__)


class ActionRecordHelp(Action):
    """Store one help record for the commune's monthly report (helper mode only)."""

    def name(self) -> str:
        return "action_record_help"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        if not tracker.get_slot("helper_mode"):
            dispatcher.utter_message(text=help_records.NOT_HELPER)
            return []
        member = help_records.member_from_events(tracker.events, services.settings().helper_codes)
        if member is None:
            dispatcher.utter_message(text=help_records.NO_MEMBER)
            return []
        note = mask(help_records.note_of(tracker.latest_message.get("text") or ""))
        if not note:
            dispatcher.utter_message(text=help_records.HOW_TO)
            return []
        entry_id = tracker.get_slot("guide_entry") or tracker.get_slot("last_entry") or ""
        topic = topic_of(entry_id) or ""
        found = directory()
        named = found.match(note).commune or found.by_label(tracker.get_slot(COMMUNE_SLOT))
        commune = named.label if named else ""
        try:
            url = services.settings().store_url  # off the event loop, with a short wait (bot/store/offload.py)
            await offload.call(lambda: HelperActivity.open(url).record(member, commune, topic, entry_id, note))
        except Exception:
            log.exception("help record not stored")
            dispatcher.utter_message(text=help_records.UNAVAILABLE)
            return []
        dispatcher.utter_message(text=help_records.recorded(note, TOPICS.get(topic, ""), commune))
        return []

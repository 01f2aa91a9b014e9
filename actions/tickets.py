"""While a ticket is open the bot does not talk over the staff: every message goes to the ticket
(action_relay_to_staff), until the resident goes back to the assistant (action_leave_ticket) or staff close it."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import TICKET_SLOT, ticket_marker, tickets
from bot import rule_routes, safety
from bot.handoff import LEAVE_BUTTON
from bot.rule_routes import FALLBACK_ACTION
from bot.tickets import BUTTON_PRESSED, LEFT_NOTE, NO_TICKET, acknowledgement, left_ticket, wants_the_bot_back

log = logging.getLogger(__name__)


def back_to_the_bot(tracker: Tracker) -> list[dict[str, Any]]:
    """The ticket was closed while the resident was still routed to it: clear the slot and answer the message as
    the rules would have without a ticket."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    slots = {**tracker.slots, TICKET_SLOT: False}
    action = rule_routes.action_for(intent, slots)
    if action in ("action_relay_to_staff", "action_leave_ticket"):
        action = FALLBACK_ACTION
    return [SlotSet(TICKET_SLOT, False), FollowupAction(action)]


def leave(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """Back to the assistant; the ticket stays open for staff to answer and close."""
    try:
        ticket = tickets().open_for(tracker.sender_id)
        if ticket is not None:
            tickets().add_note(ticket.id, LEFT_NOTE)
    except Exception:
        log.exception("ticket store unavailable while leaving a ticket")
        ticket = None
    dispatcher.utter_message(text=left_ticket(ticket.code) if ticket else NO_TICKET)
    return [SlotSet(TICKET_SLOT, False)]


class ActionRelayToStaff(Action):
    """Put the resident's message in their open ticket; say so at most once per staff reply."""

    def name(self) -> str:
        return "action_relay_to_staff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        text = tracker.latest_message.get("text") or ""
        if wants_the_bot_back(text):  # read by rule too: the way back must not hang on NLU confidence
            return leave(dispatcher, tracker)
        try:
            store = tickets()
            ticket = store.open_for(tracker.sender_id)
            stored, acknowledge = (False, False) if ticket is None else \
                store.add_resident_message(ticket.id, BUTTON_PRESSED if text.startswith("/") else text)
        except Exception:
            log.exception("ticket store unavailable: answered by the assistant instead")
            return back_to_the_bot(tracker)
        if not stored:
            return back_to_the_bot(tracker)
        notice = safety.notice_for(text)
        if notice is not None and notice.level is safety.Level.SECRET:  # the one thing worth interrupting for
            dispatcher.utter_message(text=notice.text)
        if acknowledge:
            dispatcher.utter_message(text=acknowledgement(ticket.code), buttons=[LEAVE_BUTTON])
        dispatcher.utter_message(json_message=ticket_marker(ticket.code, "relayed"))
        return []


class ActionLeaveTicket(Action):
    """"Quay lại trợ lý ảo": the assistant answers again."""

    def name(self) -> str:
        return "action_leave_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        return leave(dispatcher, tracker)

"""While a ticket is open the bot does not talk over the staff: every message goes to the ticket
(action_relay_to_staff), until the resident goes back to the assistant (action_leave_ticket) or staff close it."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import TICKET_SLOT, ticket_marker, tickets
from bot.handoff import rule_routes
from bot.handoff.replies import LEAVE_BUTTON
from bot.handoff.rule_routes import FALLBACK_ACTION
from bot.handoff.tickets import BUTTON_PRESSED, LEFT_NOTE, NO_TICKET, acknowledgement, left_ticket, wants_the_bot_back
from bot.replies import safety
from bot.store import offload
from bot.store.tickets import Ticket

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


def note_leaving(sender_id: str) -> Ticket | None:
    """The open ticket, noted that the resident went back to the assistant. Blocks: run it through offload."""
    store = tickets()
    ticket = store.open_for(sender_id)
    if ticket is not None:
        store.add_note(ticket.id, LEFT_NOTE)
    return ticket


def relay(sender_id: str, text: str) -> tuple[Ticket | None, bool, bool]:
    """(open ticket, stored, acknowledge) for a resident's message put in their ticket. Blocks: run it through
    offload."""
    store = tickets()
    ticket = store.open_for(sender_id)
    stored, acknowledge = (False, False) if ticket is None else store.add_resident_message(ticket.id, text)
    return ticket, stored, acknowledge


async def leave(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """Back to the assistant; the ticket stays open for staff to answer and close."""
    try:
        ticket = await offload.call(note_leaving, tracker.sender_id)
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
            return await leave(dispatcher, tracker)
        try:  # off the event loop, and a short wait: a locked or unreachable store hands the turn to the assistant
            ticket, stored, acknowledge = await offload.call(
                relay, tracker.sender_id, BUTTON_PRESSED if text.startswith("/") else text)
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
        return await leave(dispatcher, tracker)

"""Bringing in a person: ask the resident's commune once (handoff_form), then open a ticket that the commune's
staff answer from the admin page, and tell the team: the commune's own, else its province's, else the default one
(contacts.yml and the admin page's "Liên hệ theo xã/phường"). Logic in bot/handoff/replies.py,
bot/handoff/directory.py, bot/handoff/teams.py, bot/handoff/tickets.py."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from bot.core import limits
from bot.handoff.directory import UNKNOWN, Directory
from bot.handoff.notify import Notifier
from bot.handoff.replies import (
    LEAVE_BUTTON,
    ambiguous_commune,
    ask_commune,
    ask_commune_in,
    handoff_text,
    ticket_opened,
    ticket_still_open,
)
from bot.handoff.teams import FROM_DEFAULT
from bot.handoff.tickets import BACK_NOTE, channel_of, conversation, resident_words, team_notice, ticket_refusal
from bot.knowledge.model import topic_of
from bot.store import offload
from bot.store.teams import TeamContacts
from bot.store.tickets import Ticket, Tickets
from bot.usecases.teams import current_teams

log = logging.getLogger(__name__)
TICKET_SLOT = "ticket_open"
COMMUNE_SLOT = "commune"
_background: set[asyncio.Task] = set()  # notices in flight, referenced so they are not collected mid-way


def last_topic(tracker: Tracker) -> str | None:
    """The topic of the last answered entry ('vneid-...' -> 'vneid'), if any."""
    return topic_of(tracker.get_slot("last_entry") or "")


def directory() -> Directory:
    """The commune directory of contacts.yml, read afresh (edits apply at once); a broken file falls back to generic
    contacts."""
    try:
        return Directory.load(services.settings().contacts_file)
    except ValueError as err:
        log.error("contacts file unusable, using generic contacts: %s", err)
        return Directory.parse({})


async def directory_with_teams(budget: offload.Budget) -> Directory:
    """The directory with the team contacts mapped on the admin page (read from the store off the event loop, at
    every ticket: a change applies at once); a store that does not answer in time leaves contacts.yml's alone."""
    found = directory()
    url = services.settings().store_url
    try:
        return found.with_teams(await offload.call(lambda: current_teams(TeamContacts.open(url)),
                                                   timeout=budget.left()))
    except Exception as err:
        log.warning("team contacts not read (%s): contacts.yml only", type(err).__name__)
        return found


def tickets() -> Tickets:
    return Tickets.open(services.settings().store_url)


def back_to_open_ticket(sender_id: str) -> Ticket | None:
    """The resident's open ticket, noted that they asked again; None when they have none. Blocks: run it through
    bot.store.offload."""
    store = tickets()
    existing = store.open_for(sender_id)
    if existing is not None:
        store.add_note(existing.id, BACK_NOTE)
    return existing


def notifier() -> Notifier:
    return services.notifier()


def in_background(coro) -> None:
    """Run a notice after the reply has gone: a slow or unreachable team never delays the resident."""
    task = asyncio.ensure_future(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)


def ticket_marker(code: str, status: str) -> dict:
    """A custom message for the channels: the web page starts polling its inbox; every channel stays quiet
    instead of apologising when this is all a turn produced (the resident wrote to the staff)."""
    return {"ticket": {"code": code, "status": status}}


class ActionAskCommune(Action):
    """The handoff form's question: which commune (buttons for a short directory; several same-named communes
    get a question about the province)."""

    def name(self) -> str:
        return "action_ask_commune"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        found = await directory_with_teams(offload.Budget())  # communes with a team are offered first
        said = tracker.latest_message.get("text") or ""
        match = found.match(said) if tracker.get_slot("requested_slot") == COMMUNE_SLOT else None
        if match and match.ambiguous:
            text, buttons = ambiguous_commune(match.candidates)
        elif match and match.province:
            text, buttons = ask_commune_in(match.province)
        else:
            text, buttons = ask_commune(found)
        dispatcher.utter_message(text=text, buttons=buttons)
        return []


class ValidateHandoffForm(FormValidationAction):
    """Turns what the resident typed into a directory commune, or UNKNOWN (the default contacts)."""

    def name(self) -> str:
        return "validate_handoff_form"

    async def validate_commune(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: dict[str, Any]) -> dict[str, Any]:
        found = directory()
        text = str(value or "").strip()
        if text == UNKNOWN or found.by_label(text):
            return {COMMUNE_SLOT: text}
        asked_again = _asked_again(tracker)
        match = found.match(text)
        if match.commune is None and asked_again:  # "Hà Nội" after "several communes have this name"
            match = found.match(f"{text}, {_previous_user_text(tracker)}")
        if match.commune:
            return {COMMUNE_SLOT: match.commune.label}
        if (match.ambiguous or match.province) and not asked_again:
            return {COMMUNE_SLOT: None}  # action_ask_commune asks for the province, or the commune of the province
        return {COMMUNE_SLOT: UNKNOWN}


def _asked_again(tracker: Tracker) -> bool:
    """Whether the bot's last message was the follow-up question (same-named communes, or which commune of a
    province): it is asked only once."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            said = event.get("text") or ""
            return said == ambiguous_commune(())[0] or said.startswith("Bạn ở xã/phường nào của ")
    return False


def _previous_user_text(tracker: Tracker) -> str:
    """What the resident typed before the latest message (the first half of a two-message address)."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    return str(users[-2].get("text") or "") if len(users) >= 2 else ""


class ActionHandoff(Action):
    """Open a ticket (or return to the open one), tell the resident its code and their commune's contacts, and
    notify the commune's team. Without a working store the resident still gets the contacts."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        budget = offload.Budget()  # the store calls below run off the event loop and share one short wait
        found = await directory_with_teams(budget)
        label = tracker.get_slot(COMMUNE_SLOT)
        commune = found.by_label(label)
        contacts = commune.contacts if commune else found.defaults
        topic = last_topic(tracker)
        try:
            existing = await offload.call(back_to_open_ticket, tracker.sender_id, timeout=budget.left())
            if existing is not None:
                dispatcher.utter_message(text=ticket_still_open(existing.code), buttons=[LEAVE_BUTTON])
                dispatcher.utter_message(json_message=ticket_marker(existing.code, "open"))
                return [SlotSet(TICKET_SLOT, True)]
            refusal = ticket_refusal(limits.shared(), tracker.sender_id,
                                     limits.client_address(tracker.latest_message.get("metadata")))
            if refusal:  # too many tickets: no notice to the team, but the contacts still help
                dispatcher.utter_message(text=refusal + "\n" + handoff_text(contacts, topic))
                return []
            channel = channel_of(tracker.sender_id, tracker.get_latest_input_channel())
            history = conversation(tracker.events)
            ticket = await offload.call(
                lambda: tickets().create(tracker.sender_id, channel, commune.label if commune else "", topic or "",
                                         history),
                timeout=budget.left())
        except Exception:  # the store is down: the contacts still help
            log.exception("could not open a ticket: replied with the contacts only")
            dispatcher.utter_message(text=handoff_text(contacts, topic))
            return []
        dispatcher.utter_message(text=ticket_opened(ticket.code, contacts, topic), buttons=[LEAVE_BUTTON])
        dispatcher.utter_message(json_message=ticket_marker(ticket.code, "open"))
        notice = team_notice(ticket.code, ticket.commune, ticket.topic, channel, resident_words(history),
                             services.settings().admin_url)
        in_background(notifier().team(commune.notify if commune else found.notify, notice))
        log.info("ticket %s opened (%s, %s; team told through the %s contact)", ticket.code, channel,
                 ticket.commune or "commune unknown", commune.notify_from if commune else FROM_DEFAULT)
        return [SlotSet(TICKET_SLOT, True)]

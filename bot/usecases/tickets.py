"""Staff answering a resident's handoff ticket, and closing it with a resolution: saved on the ticket, sent to the
resident on their own channel at once (Telegram, Zalo; a web chat resident finds it in their page's inbox), and
written to the audit log (`ticket_reply`, `ticket_close`).

The notifier is bot.handoff.notify.Notifier (or a fake with the same `resident` coroutine). Its sends are async;
these use cases are not (the store is synchronous), so they take `run`: how to run a coroutine function to its
end from this thread. A server's worker thread passes anyio.from_thread.run; a script or a test the default.
Opening a ticket is the resident's action (actions/handoff.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.handoff.notify import Delivery
from bot.handoff.tickets import closing_note, staff_reply
from bot.store.tickets import Ticket, TicketMessage, Tickets
from bot.usecases.audit import AuditWriter

SENT, INBOX, NOT_SENT = "sent", "inbox", "not_sent"


class ResidentNotifier(Protocol):
    async def resident(self, sender_id: str, text: str) -> Delivery: ...


def run_here(fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Run an async function to its end in a fresh event loop (a thread that has none running)."""
    async def call() -> Any:
        return await fn(*args)

    return asyncio.run(call())


@dataclass(frozen=True)
class Answered:
    """What happened to a reply or a closing note: the ticket, the message saved, and its delivery."""

    ticket: Ticket
    message: TicketMessage
    delivery: Delivery

    @property
    def outcome(self) -> str:
        """SENT, INBOX (a web chat resident reads it there) or NOT_SENT."""
        return SENT if self.delivery.sent else INBOX if self.delivery.waits_in_inbox else NOT_SENT


class TicketDesk:
    """The staff's ticket use cases for one author. Errors: TicketNotFound, TicketClosed (nothing saved)."""

    def __init__(self, tickets: Tickets, audit: AuditWriter, notifier: ResidentNotifier, author: str,
                 run: Callable[..., Any] = run_here) -> None:
        self.tickets, self.audit, self.notifier, self.author, self.run = tickets, audit, notifier, author, run

    def _deliver(self, ticket: Ticket, message: TicketMessage, text: str) -> Delivery:
        delivery: Delivery = self.run(self.notifier.resident, ticket.sender_id, text)
        if delivery.sent:
            self.tickets.mark_delivered([message.id])
        return delivery

    def answer(self, code: str, text: str) -> Answered:
        """Save a staff reply on the open ticket and send it to the resident."""
        ticket, message = self.tickets.reply(code, self.author, text)
        answered = Answered(ticket, message, self._deliver(ticket, message, staff_reply(ticket.code, message.text)))
        self.audit.log(self.author, "ticket_reply", ticket.code, f"{len(message.text)} ký tự; {answered.outcome}")
        return answered

    def close(self, code: str, resolution: str) -> Answered:
        """Close the ticket with what was done, and tell the resident."""
        closed, message = self.tickets.close(code, self.author, resolution, note=closing_note(code, resolution))
        answered = Answered(closed, message, self._deliver(closed, message, message.text))
        self.audit.log(self.author, "ticket_close", closed.code, closed.resolution)
        return answered

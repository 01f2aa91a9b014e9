"""Handoff tickets: a resident asked for a person, the commune's staff answer from the admin page.

A ticket has a short code the resident can read out on the phone ("HT-KM482"), the resident's conversation id and
channel, the commune (directory label) and topic, and its messages: the recent conversation with the bot, what the
resident wrote since, staff replies and the closing note. What residents and the bot wrote, and the resolution, are
masked (bot.core.privacy.mask) here, whatever the caller did; a staff reply and the closing note reach the resident as
staff
wrote them (a callback number the resident asked for). Messages meant for the resident (staff replies, the closing
note) carry a `delivered` flag: set at once when the channel took them (Telegram, Zalo), or when the web chat page
polls them (`inbox`).

Runs in the action server and the admin page (SQLAlchemy 2) and in the Rasa server for the web chat inbox
(SQLAlchemy 1.4): Core statements only, no RETURNING.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, case, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from bot.core.localtime import utcnow
from bot.core.privacy import mask
from bot.store.schema import as_utc, engine_for, ticket_messages, tickets

OPEN, CLOSED = "open", "closed"
RESIDENT, BOT, STAFF, SYSTEM = "resident", "bot", "staff", "system"
KINDS = (RESIDENT, BOT, STAFF, SYSTEM)
CODE_PREFIX = "HT-"
# Letters and digits nobody confuses when reading aloud or copying (no I/1, O/0, B/8, S/5, G/6, Z/2; no F, J, W
# outside the Vietnamese alphabet). Two letters then three digits: a run of 4+ digits would be masked as an OTP.
CODE_LETTERS = "ACDEHKMNPRTUVXY"
CODE_DIGITS = "23456789"
MAX_TEXT = 4000  # one message; a resident's message is at most 2,000 characters at the channels


class TicketNotFound(KeyError):
    """No ticket has this code."""


class TicketClosed(ValueError):
    """The ticket was already closed (by someone else, or a moment ago)."""


@dataclass(frozen=True)
class Ticket:
    id: int
    code: str
    sender_id: str
    channel: str
    commune: str
    topic: str
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    resolution: str
    closed_by: str

    @property
    def is_open(self) -> bool:
        return self.status == OPEN


@dataclass(frozen=True)
class TicketMessage:
    id: int
    ticket_id: int
    at: dt.datetime
    kind: str
    author: str
    text: str
    to_resident: bool
    delivered: bool


@dataclass(frozen=True)
class TicketSummary:
    """A row of the staff's list: the ticket, its message count and when the resident last wrote."""

    ticket: Ticket
    messages: int
    last_resident_at: dt.datetime | None


def new_code() -> str:
    """A fresh random code such as "HT-KM482" (115,200 of them; the store retries on a collision)."""
    letters = "".join(secrets.choice(CODE_LETTERS) for _ in range(2))
    digits = "".join(secrets.choice(CODE_DIGITS) for _ in range(3))
    return CODE_PREFIX + letters + digits


def normal_code(code: str) -> str:
    """A code as typed by staff ("ht km482", "HT-KM482 ") in its stored form."""
    letters = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    if letters.startswith(CODE_PREFIX[:-1]):
        letters = letters[len(CODE_PREFIX) - 1:]
    return CODE_PREFIX + letters


def _ticket(row) -> Ticket:
    return Ticket(row.id, row.code, row.sender_id, row.channel, row.commune, row.topic, row.status,
                  as_utc(row.created_at), as_utc(row.updated_at), as_utc(row.closed_at), row.resolution or "",
                  row.closed_by or "")


def _message(row) -> TicketMessage:
    return TicketMessage(row.id, row.ticket_id, as_utc(row.at), row.kind, row.author or "", row.text,
                         bool(row.to_resident), bool(row.delivered))


def _clean(text: str) -> str:
    return mask(str(text or "")).strip()[:MAX_TEXT]


def _as_written(text: str) -> str:
    """Staff text for the resident: not masked (staff may give a number to call back on)."""
    return str(text or "").strip()[:MAX_TEXT]


class Tickets:
    """Tickets and their messages in the store's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Tickets:
        return cls(engine_for(url))

    # --- the resident's side (action server) --------------------------------------------------------------

    def create(self, sender_id: str, channel: str, commune: str = "", topic: str = "",
               history: Iterable[tuple[str, str]] = (), now: dt.datetime | None = None) -> Ticket:
        """Open a ticket with the recent conversation as its first messages ((kind, text) pairs, oldest first)."""
        now = now or utcnow()
        history = [(kind, cleaned) for kind, text in history if kind in KINDS and (cleaned := _clean(text))]
        for _ in range(20):
            try:
                with self.engine.begin() as conn:
                    result = conn.execute(insert(tickets).values(
                        code=new_code(), sender_id=sender_id[:128], channel=channel[:20], commune=commune[:200],
                        topic=(topic or "")[:40], status=OPEN, created_at=now, updated_at=now, resolution="",
                        closed_by="", ack_pending=True,
                    ))
                    ticket_id = result.inserted_primary_key[0]
                    for kind, text in history:
                        self._add(conn, ticket_id, kind, text, now)
                    return _ticket(conn.execute(select(tickets).where(tickets.c.id == ticket_id)).one())
            except IntegrityError:  # the code was taken: draw another
                continue
        raise RuntimeError("no free ticket code after 20 tries")

    def open_for(self, sender_id: str) -> Ticket | None:
        """The resident's open ticket (the newest, should there be several), or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(tickets).where(tickets.c.sender_id == sender_id, tickets.c.status == OPEN)
                .order_by(tickets.c.id.desc()).limit(1)
            ).first()
        return _ticket(row) if row else None

    def add_resident_message(self, ticket_id: int, text: str, now: dt.datetime | None = None) -> tuple[bool, bool]:
        """Append what the resident wrote. Returns (stored, acknowledge): not stored when the ticket is closed;
        `acknowledge` is true once after opening and once after each staff reply (claimed atomically)."""
        now = now or utcnow()
        with self.engine.begin() as conn:
            row = conn.execute(select(tickets.c.status).where(tickets.c.id == ticket_id)).first()
            if row is None or row.status != OPEN:
                return False, False
            self._add(conn, ticket_id, RESIDENT, _clean(text) or "(tin nhắn trống)", now)
            claimed = conn.execute(
                update(tickets).where(tickets.c.id == ticket_id, tickets.c.ack_pending.is_(True))
                .values(ack_pending=False, updated_at=now)
            ).rowcount
            if not claimed:
                conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(updated_at=now))
        return True, bool(claimed)

    def add_note(self, ticket_id: int, text: str, now: dt.datetime | None = None) -> None:
        """A line for staff only ("the resident went back to the bot")."""
        with self.engine.begin() as conn:
            self._add(conn, ticket_id, SYSTEM, _clean(text), now or utcnow())

    # --- the staff's side (admin page) --------------------------------------------------------------------

    def get(self, code: str) -> Ticket:
        with self.engine.connect() as conn:
            row = conn.execute(select(tickets).where(tickets.c.code == normal_code(code))).first()
        if row is None:
            raise TicketNotFound(code)
        return _ticket(row)

    def summaries(self, status: str | None = OPEN, limit: int = 500) -> list[TicketSummary]:
        """Tickets for the staff's list: open ones oldest first (the longest waiting on top), else newest first."""
        counts = (
            select(ticket_messages.c.ticket_id, func.count().label("n"),
                   func.max(case((ticket_messages.c.kind == RESIDENT, ticket_messages.c.at))).label("last"))
            .group_by(ticket_messages.c.ticket_id).subquery()
        )
        query = select(tickets, counts.c.n, counts.c.last).select_from(
            tickets.outerjoin(counts, counts.c.ticket_id == tickets.c.id))
        if status:
            query = query.where(tickets.c.status == status)
        query = query.order_by(tickets.c.id if status == OPEN else tickets.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [TicketSummary(_ticket(r), r.n or 0, as_utc(r.last)) for r in conn.execute(query)]

    def messages(self, ticket_id: int) -> list[TicketMessage]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(ticket_messages).where(ticket_messages.c.ticket_id == ticket_id)
                                .order_by(ticket_messages.c.id))
            return [_message(r) for r in rows]

    def reply(self, code: str, author: str, text: str, now: dt.datetime | None = None) -> tuple[Ticket, TicketMessage]:
        """A staff reply to the resident (not yet delivered). Raises TicketNotFound, TicketClosed, ValueError."""
        text = _as_written(text)
        if not text:
            raise ValueError("empty reply")
        now = now or utcnow()
        ticket = self.get(code)
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(tickets).where(tickets.c.id == ticket.id, tickets.c.status == OPEN)
                .values(ack_pending=True, updated_at=now)
            ).rowcount
            if not changed:
                raise TicketClosed(code)
            message_id = self._add(conn, ticket.id, STAFF, text, now, author=author, to_resident=True)
            row = conn.execute(select(ticket_messages).where(ticket_messages.c.id == message_id)).one()
            return ticket, _message(row)

    def close(self, code: str, author: str, resolution: str, note: str,
              now: dt.datetime | None = None) -> tuple[Ticket, TicketMessage]:
        """Close with a resolution; `note` is what the resident is told (stored as an undelivered message).
        Only one of two staff closing at once succeeds: the other gets TicketClosed."""
        resolution = _clean(resolution)
        if not resolution:
            raise ValueError("empty resolution")
        now = now or utcnow()
        ticket = self.get(code)
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(tickets).where(tickets.c.id == ticket.id, tickets.c.status == OPEN)
                .values(status=CLOSED, closed_at=now, updated_at=now, resolution=resolution, closed_by=author[:80])
            ).rowcount
            if not changed:
                raise TicketClosed(code)
            message_id = self._add(conn, ticket.id, SYSTEM, _as_written(note), now, author=author, to_resident=True)
            message = _message(conn.execute(select(ticket_messages).where(ticket_messages.c.id == message_id)).one())
            return _ticket(conn.execute(select(tickets).where(tickets.c.id == ticket.id)).one()), message

    def mark_delivered(self, message_ids: Iterable[int]) -> None:
        ids = list(message_ids)
        if ids:
            with self.engine.begin() as conn:
                conn.execute(update(ticket_messages).where(ticket_messages.c.id.in_(ids)).values(delivered=True))

    # --- the web chat page's inbox (Rasa server) ----------------------------------------------------------

    def inbox(self, sender_id: str, after: int | None = None, limit: int = 50) -> list[TicketMessage]:
        """Messages for the resident: those not yet delivered, and (when the page says what it has seen) every
        later one, so an answer lost on the way is sent again. Marks them delivered."""
        seen = or_(ticket_messages.c.delivered.is_(False), ticket_messages.c.id > after) if after is not None \
            else ticket_messages.c.delivered.is_(False)
        query = (
            select(ticket_messages)
            .select_from(ticket_messages.join(tickets, tickets.c.id == ticket_messages.c.ticket_id))
            .where(and_(tickets.c.sender_id == sender_id, ticket_messages.c.to_resident.is_(True), seen))
            .order_by(ticket_messages.c.id).limit(limit)
        )
        with self.engine.begin() as conn:
            found = [_message(r) for r in conn.execute(query)]
            fresh = [m.id for m in found if not m.delivered]
            if fresh:
                conn.execute(update(ticket_messages).where(ticket_messages.c.id.in_(fresh)).values(delivered=True))
        return found

    def has_open(self, sender_id: str) -> bool:
        return self.open_for(sender_id) is not None

    @staticmethod
    def _add(conn: Connection, ticket_id: int, kind: str, text: str, at: dt.datetime, author: str = "",
             to_resident: bool = False) -> int:
        result = conn.execute(insert(ticket_messages).values(
            ticket_id=ticket_id, at=at, kind=kind, author=author[:80], text=text, to_resident=to_resident,
            delivered=not to_resident,
        ))
        return result.inserted_primary_key[0]

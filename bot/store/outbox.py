"""The outbox: answers a channel has still to deliver, kept in the store until the channel's API took them.

One row per message, in sending order (`id`) within a recipient. Only a recipient's oldest row (its head) is ever
sent, so a failed message holds back the ones after it and the resident reads the answer in order. A sender claims
the head with a lease (a conditional UPDATE), so two coroutines or two servers sharing the store never send the same
row at once; a sender that dies mid-send lets the lease run out and another one takes over (at least once).

Synchronous SQLAlchemy Core, as in the rest of bot/store: callers in an event loop run it in a thread. Works on
SQLAlchemy 1.4 (the Rasa server, where the Zalo channel lives) and 2.x.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.engine import Engine

from bot.store.schema import engine_for, outbox

LEASE_S = 120.0  # longer than one send with a token refresh (three requests of 10 s at most)
MAX_ERROR = 200


@dataclass(frozen=True)
class Pending:
    """One message waiting to be sent."""

    id: int
    recipient: str
    message: dict
    created_at: float
    due_at: float
    attempts: int


class Outbox:
    """Pending messages of one channel."""

    def __init__(self, engine: Engine, channel: str) -> None:
        self.engine = engine
        self.channel = channel

    @classmethod
    def open(cls, url: str, channel: str) -> Outbox:
        return cls(engine_for(url), channel)

    def add(self, recipient: str, messages: list[dict], now: float) -> list[int]:
        """Queue `messages` for `recipient`, due now, in one transaction (all or none); their ids in order."""
        ids = []
        with self.engine.begin() as conn:
            for message in messages:
                result = conn.execute(insert(outbox).values(
                    channel=self.channel, recipient=recipient, message=json.dumps(message, ensure_ascii=False),
                    created_at=now, due_at=now, attempts=0, lease_until=None, last_error="",
                ))
                ids.append(int(result.inserted_primary_key[0]))
        return ids

    def head(self, recipient: str) -> Pending | None:
        """The recipient's oldest pending message (the only one that may be sent now), or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(outbox).where(outbox.c.channel == self.channel, outbox.c.recipient == recipient)
                .order_by(outbox.c.id).limit(1)
            ).mappings().first()
        return _pending(row) if row else None

    def claim(self, item_id: int, now: float, lease_s: float = LEASE_S) -> bool:
        """Take the message for sending if it is due and nobody holds it; True when this caller got it."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(outbox)
                .where(outbox.c.id == item_id, outbox.c.due_at <= now, _free(now))
                .values(lease_until=now + lease_s)
            )
        return result.rowcount == 1

    def sent(self, item_id: int) -> None:
        """The channel took it: forget it (the store keeps no copy of answers once delivered)."""
        self._delete(item_id)

    def drop(self, item_id: int) -> None:
        """Refused for good (or given up on): forget it; the caller logs why."""
        self._delete(item_id)

    def retry_at(self, item_id: int, due_at: float, attempts: int, error: str) -> None:
        """A failed attempt: release the lease and try again at `due_at`."""
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == item_id).values(
                due_at=due_at, attempts=attempts, lease_until=None, last_error=error[:MAX_ERROR],
            ))

    def due_recipients(self, now: float, limit: int = 100) -> list[str]:
        """Recipients whose head is due and free, oldest first."""
        first = (select(func.min(outbox.c.id)).where(outbox.c.channel == self.channel)
                 .group_by(outbox.c.recipient))
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox.c.recipient)
                .where(outbox.c.channel == self.channel, outbox.c.id.in_(first), outbox.c.due_at <= now, _free(now))
                .order_by(outbox.c.due_at).limit(limit)
            ).all()
        return [r[0] for r in rows]

    def next_due(self) -> float | None:
        """When the earliest message of this channel is due (None when nothing waits)."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.min(outbox.c.due_at)).where(outbox.c.channel == self.channel)).scalar()

    def pending(self, recipient: str | None = None) -> list[Pending]:
        """Everything waiting (for one recipient), in sending order."""
        query = select(outbox).where(outbox.c.channel == self.channel)
        if recipient is not None:
            query = query.where(outbox.c.recipient == recipient)
        with self.engine.connect() as conn:
            return [_pending(r) for r in conn.execute(query.order_by(outbox.c.id)).mappings().all()]

    def _delete(self, item_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(outbox).where(outbox.c.id == item_id))


def _free(now: float):
    """Nobody holds the row (no lease, or an expired one)."""
    return or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now)


def _pending(row) -> Pending:
    return Pending(int(row["id"]), row["recipient"], json.loads(row["message"]), float(row["created_at"]),
                   float(row["due_at"]), int(row["attempts"]))

"""Topic menus in the store: the order an admin pinned for a topic's menu, and how often each entry was answered
lately (the question log), the two things bot/replies/topic_menu.ranked_tasks ranks a menu by besides the defaults.

Pins replace a topic's whole list at once (set_pins): the last admin to save wins. Checking that the ids belong to the
topic is the use case's (bot/usecases/menus.py); the store keeps what it is given.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.core.localtime import utcnow
from bot.store.schema import as_utc, engine_for, menu_pins, questions

COUNTS_OVER = dt.timedelta(days=30)  # menus follow what residents asked over the last month
_SAVE_TRIES = 3  # two admins saving one topic at once: the second insert meets the first's rows; it goes again


class MenuPins:
    """Pinned menu orders in the store's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> MenuPins:
        return cls(engine_for(url))

    def pins(self, topic: str) -> list[str]:
        """The topic's pinned entry ids, first button first; [] when nothing is pinned."""
        query = select(menu_pins.c.entry_id).where(menu_pins.c.topic == topic).order_by(menu_pins.c.position)
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def all_pins(self) -> dict[str, list[str]]:
        """Every topic's pins in one query (topics without pins are absent)."""
        query = select(menu_pins.c.topic, menu_pins.c.entry_id).order_by(menu_pins.c.topic, menu_pins.c.position)
        out: dict[str, list[str]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                out.setdefault(row.topic, []).append(row.entry_id)
        return out

    def pinned_by(self, topic: str) -> tuple[str, dt.datetime] | None:
        """Who pinned the topic's current order, and when; None when nothing is pinned."""
        query = (select(menu_pins.c.pinned_by, menu_pins.c.pinned_at).where(menu_pins.c.topic == topic)
                 .order_by(menu_pins.c.position).limit(1))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else (row.pinned_by, as_utc(row.pinned_at))

    def set_pins(self, topic: str, entry_ids: Sequence[str], who: str) -> None:
        """Replace the topic's pins with `entry_ids` in this order (empty: no pins), in one transaction."""
        now = utcnow()
        rows = [dict(topic=topic, position=i, entry_id=eid, pinned_by=who, pinned_at=now)
                for i, eid in enumerate(entry_ids, start=1)]
        for attempt in range(_SAVE_TRIES):
            try:
                with self.engine.begin() as conn:
                    conn.execute(delete(menu_pins).where(menu_pins.c.topic == topic))
                    if rows:
                        conn.execute(insert(menu_pins), rows)
                return
            except IntegrityError:
                if attempt == _SAVE_TRIES - 1:
                    raise

    def answered_counts(self, since: dt.datetime | None = None) -> Counter[str]:
        """Answers per entry in the question log since `since` (default: the last COUNTS_OVER), counted in SQL."""
        since = since or utcnow() - COUNTS_OVER
        query = (select(questions.c.entry_id, func.count()).where(
            questions.c.outcome == "answered", questions.c.at >= since, questions.c.entry_id.is_not(None))
            .group_by(questions.c.entry_id))
        with self.engine.connect() as conn:
            return Counter({entry_id: int(n) for entry_id, n in conn.execute(query)})

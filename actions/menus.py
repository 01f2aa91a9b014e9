"""What the topic menus offer (bot/replies/topic_menu.py): the default order from knowledge/menus/topic_tasks.yml,
how often each entry was answered lately (the question log) and the order an admin pinned on the admin page
(bot/store/menus.py). The last two are read from the store off the reply's path and kept a while: a reply uses what
was last read, and a read that is due starts in the background (the first reply after a start sees no counts, no pins).
"""

from __future__ import annotations

import functools
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Generic, TypeVar

from actions import services
from bot.replies import topic_menu
from bot.store import offload
from bot.store.menus import MenuPins

COUNTS_EVERY_S = 600.0  # menus follow what residents ask over weeks: a ten-minute-old count is fresh enough
PINS_EVERY_S = 60.0  # an admin who pins an order sees the bot follow it within a minute

T = TypeVar("T")


class Refreshed(Generic[T]):
    """A value read from the store in the background every `every_s` seconds; reading it never waits."""

    def __init__(self, what: str, every_s: float, read: Callable[[], T], empty: T) -> None:
        self.what, self.every_s, self._read, self.value = what, every_s, read, empty
        self.read_at = float("-inf")
        self._lock = threading.Lock()

    def get(self) -> T:
        """The last value read; starts a background read when it is due (one at a time)."""
        with self._lock:
            due = time.monotonic() - self.read_at >= self.every_s
            if due:
                self.read_at = time.monotonic()
        if due:
            offload.in_background(self.what, self._refresh)
        return self.value

    def _refresh(self) -> None:
        self.value = self._read()


def _store() -> MenuPins:
    return MenuPins.open(services.settings().store_url)  # one engine per URL and process (schema.engine_for)


_counts: Refreshed[Counter[str]] = Refreshed("menu counts", COUNTS_EVERY_S, lambda: _store().answered_counts(),
                                             Counter())
_pins: Refreshed[dict[str, list[str]]] = Refreshed("menu pins", PINS_EVERY_S, lambda: _store().all_pins(), {})


@functools.lru_cache(maxsize=1)
def defaults() -> dict[str, list[str]]:
    """Topic → entry ids in the default order."""
    return topic_menu.load_defaults(services.settings().knowledge_dir / "menus" / "topic_tasks.yml")


@functools.lru_cache(maxsize=1)
def first_aid() -> dict[str, str]:
    """Topic → the entry whose steps a vague problem with that topic's app sees first."""
    return topic_menu.load_first_aid(services.settings().knowledge_dir / "menus" / "first_aid.yml")


def asked() -> Counter[str]:
    """Answers per entry over the last 30 days; refreshed in the background, never on the reply's path."""
    return _counts.get()


def pinned(topic: str) -> list[str]:
    """The entry ids an admin pinned first in the topic's menu, in order; refreshed in the background like asked()."""
    return list(_pins.get().get(topic, []))

"""What the topic menus offer (bot/replies/topic_menu.py): the default order from knowledge/menus/topic_tasks.yml and
how often each entry was answered lately, read from the question log off the reply's path and kept a while."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
import time
from collections import Counter

from actions import services
from bot.replies import topic_menu
from bot.store import offload

log = logging.getLogger(__name__)
COUNTS_EVERY_S = 600.0  # menus follow what residents ask over weeks: a ten-minute-old count is fresh enough
COUNTS_OVER = dt.timedelta(days=30)

_counts: Counter[str] = Counter()
_counted_at = float("-inf")
_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def defaults() -> dict[str, list[str]]:
    """Topic → entry ids in the default order."""
    return topic_menu.load_defaults(services.settings().knowledge_dir / "menus" / "topic_tasks.yml")


def _recount() -> None:
    global _counts
    since = dt.datetime.now(dt.timezone.utc) - COUNTS_OVER
    records = services.events().questions(since=since, outcomes=("answered",))
    _counts = Counter(r.entry_id for r in records if r.entry_id)


def asked() -> Counter[str]:
    """Answers per entry over the last 30 days; refreshed in the background, never on the reply's path."""
    global _counted_at
    with _lock:
        due = time.monotonic() - _counted_at >= COUNTS_EVERY_S
        if due:
            _counted_at = time.monotonic()
    if due:
        offload.in_background("menu counts", _recount)
    return _counts

"""A screenshot's text in ActionAnswerQuestion: the app error it shows first, else a search like a question.

The channels (bot/messengers/screen_reader.py) send the masked OCR text of a resident's picture as their message,
with {"screenshot": true} in the turn's metadata; only a channel sets that key (the doors drop client metadata).
The reply starts with what the bot read, so the resident can correct it.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from typing import Any

from bot.knowledge.model import Entry
from bot.replies.answers import Reply, answer_entry
from bot.screens.errors import ErrorMatcher

SCREENSHOT = "screenshot"  # bot/messengers/screen_reader.SCREENSHOT (actions import no channel code)
QUOTE_CHARS = 150
READ_LEAD = "Tôi đọc được: “{}”. Nếu tôi đọc sai, bạn gõ lại chữ trên màn hình giúp tôi."

_lock = threading.Lock()
_cache: tuple[dict[str, Entry], ErrorMatcher] | None = None  # per entry table (held, so its id is not reused)


def is_screenshot(latest_message: Mapping[str, Any]) -> bool:
    """Whether the channel marked the latest message as read from a picture."""
    metadata = latest_message.get("metadata")
    return isinstance(metadata, dict) and metadata.get(SCREENSHOT) is True


def quoted(text: str, limit: int = QUOTE_CHARS) -> str:
    """The first ~150 characters of what was read, on one line, cut at a word."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return READ_LEAD.format(flat)
    cut = flat[:limit].rsplit(" ", 1)[0] or flat[:limit]
    return READ_LEAD.format(cut + "…")


def matcher(by_id: dict[str, Entry]) -> ErrorMatcher:
    """The matcher over the current index's entries (built once per index)."""
    global _cache
    with _lock:
        if _cache is None or _cache[0] is not by_id:  # a new index has a new table
            _cache = (by_id, ErrorMatcher(by_id.values()))
        return _cache[1]


def answer_screenshot(text: str, by_id: dict[str, Entry], search: Callable[[str], Reply]) -> Reply:
    """The entry whose app message is on the screen, or `search(text)` when none is."""
    found = matcher(by_id).match(text)
    if found is not None and found.entry_id in by_id:
        return dataclasses.replace(answer_entry(by_id[found.entry_id], by_id), confidence=found.score / 100)
    return search(text)

"""A screenshot's text in ActionAnswerQuestion: the app error it shows first, else a search like a question.

The channels (bot/messengers/screen_reader.py) send the masked OCR text of a resident's picture as their message,
with {"screenshot": true} in the turn's metadata; only a channel sets that key (the doors drop client metadata).
The channel itself puts what it read before the answer ("Tôi đọc được: …"), whatever the NLU made of the text.
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

_lock = threading.Lock()
_cache: tuple[dict[str, Entry], ErrorMatcher] | None = None  # per entry table (held, so its id is not reused)


def is_screenshot(latest_message: Mapping[str, Any]) -> bool:
    """Whether the channel marked the latest message as read from a picture."""
    metadata = latest_message.get("metadata")
    return isinstance(metadata, dict) and metadata.get(SCREENSHOT) is True


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

"""Process-wide services the actions share, created on first use (never at import)."""

from __future__ import annotations

import functools
import logging
import threading

from bot.core.privacy import install_log_masking
from bot.core.settings import Settings
from bot.handoff.notify import Notifier
from bot.indexing import serving
from bot.messengers import wiring
from bot.search.service import SearchService
from bot.store.question_log import Events


@functools.lru_cache(maxsize=1)
def settings() -> Settings:
    """Settings from the environment, read once."""
    return Settings.from_env()


_lock = threading.Lock()
_service: SearchService | None = None


def search_service() -> SearchService:
    """The hot-reloading search service for this process (one, even when two requests ask at the
    same moment: two would load the model twice)."""
    global _service
    with _lock:
        if _service is None:
            install_log_masking()
            logging.getLogger("bot").setLevel(logging.INFO)
            _service = serving.search_service(settings())
        return _service


def notifier() -> Notifier:
    """Team notices and staff replies through Telegram and Zalo (bot/messengers/wiring.py), built per use."""
    return wiring.notifier(settings())


@functools.lru_cache(maxsize=1)
def events() -> Events:
    """The question log and feedback in the knowledge store (SQLite by default, shared PostgreSQL when set)."""
    return Events.open(settings().store_url)

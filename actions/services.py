"""Process-wide services the actions share, created on first use (never at import)."""

from __future__ import annotations

import functools
import logging
import os
import threading

from bot.privacy import install_log_masking
from bot.search.service import SearchService
from bot.settings import Settings


@functools.lru_cache(maxsize=1)
def settings() -> Settings:
    """Settings from the environment, read once."""
    return Settings.from_env()


_lock = threading.Lock()
_service: SearchService | None = None


def search_service() -> SearchService:
    """The hot-reloading search service for this process (one, even when the warm-up thread and
    the first request ask at the same moment: two would load the model twice)."""
    global _service
    with _lock:
        if _service is None:
            install_log_masking()
            logging.getLogger("bot").setLevel(logging.INFO)
            _service = SearchService.from_settings(settings())
        return _service


def warm_up_in_background() -> None:
    """Load the model and index now, off the request path, when BOT_WARM_UP=1 (set by `make run`):
    otherwise the first resident to ask waits for the model to load."""
    if os.environ.get("BOT_WARM_UP") == "1":
        threading.Thread(target=lambda: search_service().searcher().search("xin chào"), daemon=True).start()

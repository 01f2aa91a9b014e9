"""Process-wide services the actions share, created on first use (never at import)."""

from __future__ import annotations

import functools
import logging

from bot.privacy import install_log_masking
from bot.search.service import SearchService
from bot.settings import Settings


@functools.lru_cache(maxsize=1)
def settings() -> Settings:
    """Settings from the environment, read once."""
    return Settings.from_env()


@functools.lru_cache(maxsize=1)
def search_service() -> SearchService:
    """The hot-reloading search service for this process."""
    install_log_masking()
    logging.getLogger("bot").setLevel(logging.INFO)
    return SearchService.from_settings(settings())

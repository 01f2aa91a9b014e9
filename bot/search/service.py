"""The searcher a running process uses: loaded lazily, swapped when a new index is published.

Readers take `self._searcher` once per query; a reload builds a whole new searcher and replaces
the reference in one assignment, so queries in flight finish on the index they started with.
Built for a process by bot/indexing/serving.py, which wires in the store's release follower: search reads
index folders only and never imports the store.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Protocol

from bot.search.decide import Thresholds
from bot.search.embedder import Embedder
from bot.search.hybrid import HybridSearcher
from bot.search.index import POINTER, current_path, load_index

log = logging.getLogger(__name__)
CHECK_EVERY_S = 1.0  # how often to look at the CURRENT pointer


class Follower(Protocol):
    """Keeps the local index in step with the published release (bot/indexing/follow.py); poked now and then."""

    def poke(self) -> None: ...


class SearchService:
    """Holds the current HybridSearcher and picks up a newly published index without a restart."""

    def __init__(self, index_dir: Path, embedder: Embedder, thresholds: Thresholds,
                 follower: Follower | None = None) -> None:
        self.index_dir = index_dir
        self.follower = follower
        self.embedder = embedder
        self.thresholds = thresholds
        self._searcher: HybridSearcher | None = None
        self._stamp: int | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self._loading = False

    def _pointer_stamp(self) -> int | None:
        try:
            return (self.index_dir / POINTER).stat().st_mtime_ns
        except FileNotFoundError:
            return None

    def searcher(self) -> HybridSearcher:
        """The searcher for the newest published index (raises if none was ever built).

        The first call loads synchronously; later, a newly published index is loaded in a background
        thread while requests keep using the current searcher, then swapped in by one assignment."""
        now = time.monotonic()
        current = self._searcher
        if current is not None and now - self._checked_at < CHECK_EVERY_S:
            return current
        with self._lock:
            self._checked_at = now
            if self.follower is not None:
                self.follower.poke()
            stamp = self._pointer_stamp()
            if self._searcher is None:
                self._load(stamp)
            elif stamp != self._stamp and not self._loading:
                self._loading = True
                threading.Thread(target=self._load_in_background, args=(stamp,), daemon=True).start()
            assert self._searcher is not None
            return self._searcher

    def _load(self, stamp: int | None) -> None:
        path = current_path(self.index_dir)
        if path is None:
            raise FileNotFoundError(f"no index in {self.index_dir}: run 'make index'")
        searcher = HybridSearcher(load_index(path), self.embedder)
        self._searcher, self._stamp = searcher, stamp
        log.info("serving index %s (%d entries)", path.name, len(searcher.entries))

    def _load_in_background(self, stamp: int | None) -> None:
        try:
            self._load(stamp)
        except Exception:
            # a broken or half-copied index: keep serving the old one, and do not retry the same pointer
            log.exception("could not load the newly published index; still serving %s", self._searcher.built.path)
            self._stamp = stamp
        finally:
            self._loading = False

    def wait_for_reload(self, timeout: float = 30.0) -> None:
        """Block until a background reload (if any) has finished: for tests and the CLI."""
        deadline = time.monotonic() + timeout
        while self._loading and time.monotonic() < deadline:
            time.sleep(0.05)

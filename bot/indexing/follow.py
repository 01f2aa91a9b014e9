"""Keep this server's index in step with the store's live release, for set-ups with several servers.

With PostgreSQL as the shared store, each action server has its own index folder. When an admin
publishes on one machine, the others see a newer live release here and build the same index locally
(vectors mostly come from the embedding cache), then swap it in through their own CURRENT pointer.
On a single machine the admin's publish already moved the pointer, and this finds nothing to do.
"""

from __future__ import annotations

import logging
import threading
import time

from bot.search.embcache import EmbeddingCache
from bot.search.embedder import Embedder
from bot.search.index import build_index, current_path, publish_pointer
from bot.store.knowledge import KnowledgeStore

log = logging.getLogger(__name__)
FOLLOW_EVERY_S = 5.0


class ReleaseFollower:
    """Checks the store's live release now and then, in a background thread, never in a request."""

    def __init__(self, store: KnowledgeStore, index_dir, embedder: Embedder, model_fingerprint: str,
                 cache: EmbeddingCache | None = None) -> None:
        self.store, self.index_dir, self.embedder = store, index_dir, embedder
        self.fingerprint, self.cache = model_fingerprint, cache
        self._seen: int | None = None
        self._checked_at = 0.0
        self._busy = threading.Lock()

    def poke(self) -> None:
        """Start a check in the background if one is due and none is running."""
        now = time.monotonic()
        if now - self._checked_at < FOLLOW_EVERY_S or self._busy.locked():
            return
        self._checked_at = now
        threading.Thread(target=self.check, daemon=True, name="follow-release").start()

    def check(self) -> bool:
        """Bring the local index to the live release; True if the pointer moved."""
        if not self._busy.acquire(blocking=False):
            return False
        try:
            live = self.store.live_release()
            if live is None or live.id == self._seen or not live.index_name:
                return False
            serving = current_path(self.index_dir)
            if serving is not None and serving.name == live.index_name:
                self._seen = live.id
                return False
            if (self.index_dir / live.index_name / "meta.json").exists():
                publish_pointer(self.index_dir, live.index_name)
            else:
                log.info("building release #%s locally", live.id)
                path = build_index(self.store.release_entries(live), self.embedder, self.fingerprint, self.index_dir,
                                   progress=False, cache=self.cache)
                if path.name != live.index_name:  # another model here: still serve the release's entries
                    log.warning("release #%s built as %s here (publisher built %s)", live.id, path.name,
                                live.index_name)
            self._seen = live.id
            return True
        except Exception:
            log.exception("could not follow the live release")
            return False
        finally:
            self._busy.release()

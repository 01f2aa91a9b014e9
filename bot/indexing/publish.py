"""Publishing: freeze the store's active entries as a release, build its index in the background, and
switch the bot to it. Action servers watch the `CURRENT` pointer and swap searchers without a restart;
a build that fails leaves the previous index serving and the release marked failed with the reason."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.core.settings import Settings
from bot.knowledge.loader import check_base
from bot.search.embcache import EmbeddingCache
from bot.search.index import build_index, current_path
from bot.search.onnx_embedder import e5_embedder
from bot.store.knowledge import KnowledgeStore, Release

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Progress:
    """What an admin sees while a release builds."""

    release_id: int | None = None
    state: str = "idle"  # idle | building | live | failed
    done: int = 0
    total: int = 0
    message: str = ""

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else (100 if self.state == "live" else 0)


def yield_cpu_to_residents(one_core: bool) -> None:
    """Residents' questions come first: an index build runs at the lowest CPU priority and, from the
    admin page (a server that stays up beside the bot), on one core.

    On Linux a thread is a task with its own nice value, so only the building thread is lowered;
    torch computes in the calling thread when its pool has one thread."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):  # not Linux, or not allowed: build at normal priority
        log.info("could not lower the index build's CPU priority")
    if one_core:
        try:
            import torch

            torch.set_num_threads(1)
        except ImportError:
            pass


class Busy(RuntimeError):
    """A release is already building in this process."""


class Publisher:
    """Builds releases one at a time; `publish` returns at once, `publish_and_wait` blocks (CLI)."""

    def __init__(self, store: KnowledgeStore, settings: Settings, embedder=None,
                 model_fingerprint: str | None = None) -> None:
        self.store, self.settings = store, settings
        self._embedder = embedder
        self._fingerprint = model_fingerprint
        self._lock = threading.Lock()
        self._progress = Progress()
        self._thread: threading.Thread | None = None

    def _model(self):
        if self._embedder is None:
            self._embedder = e5_embedder(self.settings.model_dir)
        return self._embedder, self._model_fingerprint()

    def _model_fingerprint(self) -> str:
        if self._fingerprint:
            return self._fingerprint
        if self._embedder is None:
            self._embedder = e5_embedder(self.settings.model_dir)  # lazy: reading the fingerprint loads nothing
        return getattr(self._embedder, "fingerprint", lambda: self._embedder.name)()

    @property
    def progress(self) -> Progress:
        return self._progress

    def is_current(self) -> bool:
        """True when the live release matches the working copy and its index is what CURRENT names."""
        live = self.store.live_release()
        if live is None:
            return False
        active = {s.id: s.revision for s in self.store.list(status="active")}
        serving = current_path(self.settings.index_dir)
        if not (live.snapshot == active and serving is not None and serving.name == live.index_name):
            return False
        # a new model (a fine-tune on new entries) needs new vectors even for the same entries
        meta = json.loads((serving / "meta.json").read_text(encoding="utf-8"))
        return meta.get("model") == self._model_fingerprint()

    def publish(self, author: str, on_done: Callable[[Release], None] | None = None) -> Release:
        """Start a release and build it in a background thread; Busy if one is building."""
        if not self._lock.acquire(blocking=False):
            raise Busy("đang xuất bản một bản khác, vui lòng đợi xong")
        try:
            release = self.store.start_release(author)
        except Exception:
            self._lock.release()
            raise
        self._progress = Progress(release.id, "building", 0, 0, "đang chuẩn bị")

        def run() -> None:
            try:
                finished = self._build(release, one_core=True)
                if on_done:
                    on_done(finished)
            finally:
                self._lock.release()

        self._thread = threading.Thread(target=run, name=f"publish-{release.id}", daemon=True)
        self._thread.start()
        return release

    def wait(self, timeout: float | None = None) -> Progress:
        """Block until the running build (if any) ends."""
        if self._thread:
            self._thread.join(timeout)
        return self._progress

    def publish_and_wait(self, author: str, progress_bar: bool = True) -> Release:
        """Publish and block until the index serves (or the release failed)."""
        with self._lock:
            release = self.store.start_release(author)
            done: list[Release] = []
            # its own thread, so the lowered CPU priority ends with the build, not with the caller
            worker = threading.Thread(target=lambda: done.append(self._build(release, progress_bar)),
                                      name=f"publish-{release.id}")
            worker.start()
            worker.join()
            return done[0] if done else self.store.finish_release(release.id, False, "bản dựng dừng bất thường")

    def _build(self, release: Release, progress_bar: bool = False, one_core: bool = False) -> Release:
        yield_cpu_to_residents(one_core)

        def report(done: int, total: int) -> None:
            self._progress = replace(self._progress, done=done, total=total, message="đang tính vectơ")

        try:
            entries = self.store.release_entries(release)
            problems = check_base([(e, "kho") for e in entries])
            if problems:
                raise ValueError("; ".join(problems))
            if not entries:
                raise ValueError("không có mục nào đang dùng")
            embedder, fp = self._model()
            cache = EmbeddingCache(self.settings.cache_dir / "embeddings.sqlite", fp)
            path = build_index(entries, embedder, fp, self.settings.index_dir, progress=progress_bar,
                               cache=cache, on_progress=report)
        except Exception as err:  # the previous index keeps serving; say why
            log.exception("release %s failed", release.id)
            self._progress = replace(self._progress, state="failed", message=str(err)[:500])
            return self.store.finish_release(release.id, False, str(err)[:2000])
        self._progress = replace(self._progress, state="live", message=f"đang phục vụ {len(entries)} mục")
        return self.store.finish_release(release.id, True, f"chỉ mục {path.name}", path.name)

"""Send each typed message to the action server as soon as Rasa reads it, so the search can embed it while Rasa's
NLU and policies run: POST {"text": ...} to /search/warm (actions/warm_route.py), fire and forget.

Why: one resident's message costs Rasa about 25 ms and the action server about 50 ms of embedding, one after the
other; two cores can do both at once. The action, when Rasa calls it, finds the query's vectors in the query cache
(bot/search/query_cache.py; in Redis too when several action servers share the work), so its answer is the same,
only sooner. Nothing here waits: a full queue, a slow or absent action server only lose a head start.

No Rasa imports, so it is tested in the actions' environment. The REST doors (bot/rasa_side/channels/rest.py) send
a message as soon as it is masked, before Rasa takes its lock and reads the tracker; bot/rasa_side/nlu/prefetch.py,
first in the pipeline, sends what other doors bring (a text sent in the last few seconds is not sent twice).
The message is already masked by the channel; nothing is logged but failures' kinds.
"""

from __future__ import annotations

import functools
import http.client
import json
import logging
import os
import queue
import threading
import time
import urllib.parse
from collections import OrderedDict

from bot.messengers.screen_reader import TOKEN_ENV, URL_ENV, route_url

log = logging.getLogger(__name__)
SWITCH_ENV = "BOT_SEARCH_PREFETCH"  # "0" turns the head start off (to measure without it)
ROUTE = "/search/warm"
QUEUE_SIZE = 32  # more waiting than this means the action server is behind anyway: drop, the action embeds itself
TIMEOUT_S = 2.0
MAX_CHARS = 2000  # the route refuses longer texts; a longer message is embedded by the action as usual
RECENT_S = 5.0  # a text sent this recently is not sent again: the REST doors send it first, the pipeline after them


def warm_url(action_url: str, token: str = "") -> str:
    """The warm route beside the action server's /webhook (found as the screen reader finds its route), with the
    token Rasa's action calls carry."""
    url = route_url(action_url.strip(), ROUTE)
    return f"{url}?{urllib.parse.urlencode({'token': token})}" if token else url


def worth_warming(text: str) -> bool:
    """Typed words: not a button's payload ("/ask_question{...}"), not empty, not longer than the route takes."""
    text = text.strip()
    return bool(text) and not text.startswith("/") and len(text) <= MAX_CHARS and any(c.isalpha() for c in text)


class PrefetchSender:
    """One daemon thread posting queued texts over one kept-alive connection."""

    def __init__(self, url: str) -> None:
        self.url = url
        parts = urllib.parse.urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port
        self._https = parts.scheme == "https"
        self._target = parts.path + (f"?{parts.query}" if parts.query else "")
        self._queue: queue.Queue[str] = queue.Queue(QUEUE_SIZE)
        self._conn: http.client.HTTPConnection | None = None
        self._recent: OrderedDict[str, float] = OrderedDict()
        self._recent_lock = threading.Lock()
        threading.Thread(target=self._run, name="search-prefetch", daemon=True).start()

    @classmethod
    def from_env(cls) -> PrefetchSender | None:
        """A sender to the action server Rasa's endpoints name (ACTION_SERVER_URL), or None when none is set."""
        url = os.environ.get(URL_ENV, "").strip()
        if os.environ.get(SWITCH_ENV, "1").strip() == "0":
            return None
        return cls(warm_url(url, os.environ.get(TOKEN_ENV, "").strip())) if url.startswith("http") else None

    def send(self, text: str) -> bool:
        """Queue a text; never waits. False when it was not worth it or the queue was full."""
        if not worth_warming(text) or self._sent_lately(text):
            return False
        try:
            self._queue.put_nowait(text)
        except queue.Full:
            return False
        return True

    def _sent_lately(self, text: str) -> bool:
        """Whether the text went out in the last RECENT_S seconds (and, if not, note that it goes now). The texts are
        kept oldest first, so the expired ones leave from the front: only the last RECENT_S seconds' are held."""
        now = time.monotonic()
        with self._recent_lock:
            while self._recent and now - next(iter(self._recent.values())) >= RECENT_S:
                self._recent.popitem(last=False)
            if text in self._recent:
                return True
            self._recent[text] = now
            return False

    def _run(self) -> None:
        while True:
            text = self._queue.get()
            try:
                self._post(text)
            finally:
                self._queue.task_done()

    def _post(self, text: str) -> None:
        body = json.dumps({"text": text}, ensure_ascii=False).encode("utf-8")
        for attempt in (1, 2):  # a kept-alive connection the server closed fails once; a new one is tried
            try:
                conn = self._connection()
                conn.request("POST", self._target, body, {"Content-Type": "application/json"})
                conn.getresponse().read()
                return
            except (OSError, http.client.HTTPException) as error:
                self._close()
                if attempt == 2:
                    log.debug("search prefetch failed: %s", type(error).__name__)

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = kind(self._host, self._port, timeout=TIMEOUT_S)
        return self._conn

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


@functools.lru_cache(maxsize=1)
def shared() -> PrefetchSender | None:
    """This process's sender (one thread, one connection), for the REST doors and the pipeline alike; None when no
    action server is configured or BOT_SEARCH_PREFETCH=0."""
    return PrefetchSender.from_env()

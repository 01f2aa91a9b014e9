"""Zalo Official Account channel for Rasa: a signed webhook in, the OA send-message API out.

`credentials.yml` names it `bot.rasa_side.channels.zalo.ZaloInput`; Rasa mounts it at /webhooks/zalo/webhook. Each
request is
read up to 64 KB (413 beyond, without reading on), checked (`zalo_events.check_webhook`: signature, nesting,
freshness), de-duplicated (`zalo_seen`: Redis when configured), answered with 200 at once (Zalo retries anything
slower than about 2 s), and handled in the background: texts go to Rasa, follows get a welcome, pictures are read by
the action server (bot/messengers/screen_reader.py: the text goes to Rasa marked as a screenshot, a private picture
gets a warning and nothing reaches Rasa), other user messages a request to type. Replies go out through the outbox
(`zalo_outbox`: kept in the store until Zalo took them, retried with backoff by a loop that runs with the server).
Settings: `bot.core.settings.ZaloSettings` (ZALO_MEDIA_HOSTS: extra picture hosts, for tests); set-up: docs/zalo.md.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from bot.core.bounded_body import read_bounded
from bot.core.copy import WELCOME
from bot.core.privacy import mask, mask_incoming
from bot.core.settings import Settings, ZaloSettings
from bot.messengers.screen_reader import (
    UNREADABLE,
    AiohttpFetcher,
    Fetcher,
    Outcome,
    ScreenReader,
    download,
    read_lead,
)
from bot.messengers.zalo_client import ZaloClient
from bot.messengers.zalo_events import (
    MAX_BODY_BYTES,
    PLEASE_TYPE,
    SIGNATURE_HEADER,
    IncomingEvent,
    Kind,
    check_webhook,
    media_url_allowed,
    user_ref,
    zalo_messages,
)
from bot.rasa_side.channels.deadline import run_turn
from bot.rasa_side.channels.rest import APOLOGY
from bot.rasa_side.channels.server_setup import prepare_rasa_server
from bot.rasa_side.channels.validation import MAX_MESSAGE_CHARS
from bot.rasa_side.channels.zalo_outbox import ZaloOutbox
from bot.rasa_side.channels.zalo_seen import SeenEvents

log = logging.getLogger(__name__)
GREET = "/greet"  # a follow is answered with the bot's own greeting (domain.yml), buttons included
SHUTDOWN_GRACE_S = 5.0


class ZaloCollector(CollectingOutputChannel):
    """Collects Rasa's replies whole: the base class cuts texts at blank lines, which on Zalo would turn one answer
    into a burst of small messages. `zalo_events.zalo_messages` cuts only what exceeds Zalo's limit."""

    @classmethod
    def name(cls) -> str:
        """The channel name Rasa records with the replies."""
        return "zalo"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Keep the text in one piece."""
        await self._persist_message(self._message(recipient_id, text=text.strip()))


class ZaloInput(InputChannel):
    """Receives Zalo OA webhooks and answers through the OA API."""

    @classmethod
    def name(cls) -> str:
        """URL segment: /webhooks/zalo/webhook."""
        return "zalo"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ZaloInput:
        """Build from the credentials.yml block, falling back to ZALO_* environment variables (the parser of
        `Settings.zalo`, with the block on top)."""
        return cls(ZaloSettings.from_sources(credentials, os.environ))

    def __init__(self, settings: ZaloSettings, client: ZaloClient | None = None,
                 fetcher: Fetcher | None = None) -> None:
        self.settings = settings
        self.client = client or ZaloClient.from_settings(settings)
        self.fetcher = fetcher or AiohttpFetcher()
        self.screens = ScreenReader.from_env(self.fetcher)
        self.media_hosts = frozenset(h.strip().lower() for h in os.environ.get("ZALO_MEDIA_HOSTS", "").split(",")
                                     if h.strip())
        self.seen = SeenEvents.from_env(os.environ, settings.app_id)
        self.outbox: ZaloOutbox | None = None  # opened with the server (it touches the database)
        self._retry_loop: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self._user_locks: dict[str, asyncio.Lock] = {}
        self._user_waiting: dict[str, int] = {}
        if not (settings.app_id or settings.oa_secret_key or settings.app_secret):
            log.info("Zalo channel not configured (no ZALO_* settings): its webhook answers 503")
        else:
            for problem in settings.problems():
                log.warning("Zalo channel: %s", problem)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The webhook route, a health route, and a listener that lets replies in flight finish at shutdown."""
        prepare_rasa_server()  # built inside Rasa's server: action calls time out, answers are checked fast
        bp = Blueprint(f"{self.name()}_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(request: Request) -> response.HTTPResponse:
            return response.json({"status": "ok", "configured": not self.settings.problems()})

        @bp.route("/webhook", methods=["POST"], stream=True)  # streamed: the size is checked before the body is read
        async def receive(request: Request) -> response.HTTPResponse:
            raw = await read_bounded(request, MAX_BODY_BYTES)
            if raw is None:
                request.stream.request_max_size = 0  # Sanic closes the connection instead of reading on
                return response.json({"error": "the body is too large"}, status=413)
            verdict = check_webhook(
                raw,
                request.headers.get(SIGNATURE_HEADER),
                self.settings.app_id,
                self.settings.oa_secret_key,
                max_age_s=self.settings.max_event_age_s,
            )
            if verdict.event is None:
                log.info("Zalo webhook rejected (%s): %s", verdict.status, verdict.error)
                return response.json({"error": verdict.error}, status=verdict.status)
            event = verdict.event
            if event.kind is Kind.IGNORED:
                return response.json({"status": "ignored"})
            if await self.seen.seen(event.dedupe_key):
                log.info("Zalo %s from %s is a repeat delivery; ignored", event.event_name, user_ref(event.user_id))
                return response.json({"status": "duplicate"})
            self._spawn(self._process(event, on_new_message))
            return response.json({"status": "accepted"})

        @bp.listener("after_server_start")
        async def start_outbox(app: Any, loop: Any) -> None:
            if self.settings.app_id and self.settings.oa_secret_key:  # a channel that accepts nothing sends nothing
                self._retry_loop = asyncio.ensure_future(self._outbox().run())

        @bp.listener("before_server_stop")
        async def finish(app: Any, loop: Any) -> None:
            if self._tasks:  # answers in flight reach the outbox (and usually Zalo); the rest waits for the restart
                await asyncio.wait(list(self._tasks), timeout=SHUTDOWN_GRACE_S)
            if self._retry_loop is not None:
                self._retry_loop.cancel()
            await self.client.close()
            await self.seen.close()

        return bp

    def _outbox(self) -> ZaloOutbox:
        """The outbox on the bot's store (BOT_STORE_URL); the store itself is opened on first use."""
        if self.outbox is None:
            s = self.settings
            self.outbox = ZaloOutbox.open(self.client, Settings.from_env().store_url, retry_base_s=s.retry_base_s,
                                          retry_max_s=s.retry_max_s, give_up_after_s=s.give_up_after_s)
        return self.outbox

    def _spawn(self, coro: Awaitable[None]) -> None:
        """Run in the background, holding a reference so the task is not collected mid-way."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, event: IncomingEvent, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """Handle one event; one user's events are handled in arrival order, so replies keep their order."""
        user = event.user_id
        lock = self._user_locks.setdefault(user, asyncio.Lock())
        self._user_waiting[user] = self._user_waiting.get(user, 0) + 1
        try:
            async with lock:
                await self._handle(event, on_new_message)
        except Exception:
            log.exception("Zalo %s from %s failed", event.event_name, user_ref(user))
        finally:
            self._user_waiting[user] -= 1
            if not self._user_waiting[user]:
                del self._user_waiting[user], self._user_locks[user]

    async def _handle(self, event: IncomingEvent, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        if event.kind is Kind.TEXT:  # masked before Rasa: the tracker and logs never hold the raw numbers
            replies = await self._ask_rasa(mask_incoming(event.text)[:MAX_MESSAGE_CHARS], event, on_new_message) or [
                {"text": APOLOGY}
            ]
        elif event.kind is Kind.IMAGE and self.screens is not None:
            replies = await self._picture(event, on_new_message)
        elif event.kind is Kind.FOLLOW:
            replies = await self._ask_rasa(GREET, event, on_new_message) or [{"text": WELCOME}]
        else:
            replies = [{"text": PLEASE_TYPE}]
        await self._outbox().deliver(event.user_id, zalo_messages(replies))

    async def _picture(self, event: IncomingEvent,
                       on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> list[dict]:
        """Read the picture (downloaded only from Zalo's CDN, at most 10 MB, kept in memory for this call); its text
        goes to Rasa as a screenshot, a private picture gets the warning, anything else a request to type."""
        reading = UNREADABLE
        if self.screens is not None and media_url_allowed(event.image_url, self.media_hosts):
            data = await download(self.fetcher, event.image_url)
            if data is not None:
                reading = await self.screens.read(data)
            del data
        if reading.outcome is Outcome.TEXT:
            text = mask_incoming(reading.text)[:MAX_MESSAGE_CHARS]
            replies = await self._ask_rasa(text, event, on_new_message, {"screenshot": True})
            return [{"text": read_lead(text)}, *replies] if replies else [{"text": APOLOGY}]
        log.info("Zalo picture from %s not relayed (%s)", user_ref(event.user_id), reading.outcome.value)
        return [{"text": reading.reply}]

    @staticmethod
    async def _ask_rasa(
        text: str, event: IncomingEvent, on_new_message: Callable[[UserMessage], Awaitable[Any]],
        metadata: dict[str, Any] | None = None,
    ) -> list[dict]:
        """One Rasa turn; its replies, or [] when the turn failed (logged with the text masked). A turn still running
        at the deadline (channels/deadline.py) gives what it said so far and the apology; it runs on unheard."""
        collector = ZaloCollector()
        message = UserMessage(
            text,
            collector,
            event.sender_id,
            input_channel="zalo",
            message_id=event.msg_id or None,
            metadata=metadata,  # the channel's own marker only: nothing from the body rides along
        )
        try:
            if not await run_turn(on_new_message(message)):
                log.warning("Rasa turn for Zalo still running at the deadline: answered with the apology")
                return [*collector.messages, {"text": APOLOGY}]
        except Exception:
            log.exception("Rasa turn failed for Zalo message %r", mask(text))
        return collector.messages



"""Client for the Zalo OA API: send consultation messages, refresh the access token when Zalo says it expired.

The HTTP layer is a small `Transport` (aiohttp in the Rasa environment, imported lazily; httpx in the action server
and the admin page: `bot/messengers/http.py`), so the refresh-and-resend logic is tested in-process against the fake
Zalo with the standard library alone. The settings live in `bot.core.settings.ZaloSettings`; the one place that builds
a client from them is `bot/messengers/wiring.py`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

from bot.core.privacy import mask
from bot.core.settings import (
    ZALO_API_BASE_URL as API_BASE_URL,
    ZALO_OAUTH_BASE_URL as OAUTH_BASE_URL,
    ZaloSettings,
)
from bot.core.text import split_text
from bot.messengers.zalo_events import MAX_TEXT_CHARS, user_ref
from bot.messengers.zalo_tokens import TokenPair, TokenStore

log = logging.getLogger(__name__)

SEND_PATH = "/v3.0/oa/message/cs"
REFRESH_PATH = "/v4/oa/access_token"
EXPIRED_TOKEN_ERRORS = frozenset({-216, -220})
# Zalo refuses this message for good: a bad parameter, a user who is no longer a follower, or whose last message is
# over 7 days old. Everything else (network, HTTP errors, rate limits, tokens, unknown codes) may pass later.
PERMANENT_ERRORS = frozenset({-201, -213, -230})
TIMEOUT_S = 10.0


@dataclass(frozen=True)
class HttpReply:
    """An HTTP status and the decoded JSON body (None when the body was not JSON)."""

    status: int
    body: Any


class Transport(Protocol):
    """POST one request; raise on network errors."""

    async def post(
        self, url: str, headers: dict[str, str], json_body: dict | None = None, form: dict[str, str] | None = None
    ) -> HttpReply:
        """Send a JSON body or a form."""

    async def close(self) -> None:
        """Release connections."""


class AiohttpTransport:
    """The production transport: one aiohttp session, created on first use inside the running loop."""

    def __init__(self, timeout_s: float = TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self._session: Any = None

    async def post(
        self, url: str, headers: dict[str, str], json_body: dict | None = None, form: dict[str, str] | None = None
    ) -> HttpReply:
        """POST with aiohttp; the body is decoded as JSON whatever the Content-Type says."""
        import aiohttp  # only in the Rasa environment

        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_s))
        async with self._session.post(url, headers=headers, json=json_body, data=form) as r:
            raw = await r.read()
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = None
        return HttpReply(r.status, body)

    async def close(self) -> None:
        """Close the session."""
        if self._session is not None and not self._session.closed:
            await self._session.close()


@dataclass(frozen=True)
class SendResult:
    """Whether Zalo accepted a message; its error code and message when not."""

    ok: bool
    error: int = 0
    detail: str = ""

    @property
    def retryable(self) -> bool:
        """A failure that may pass if the same message is sent later."""
        return not self.ok and self.error not in PERMANENT_ERRORS


@dataclass(frozen=True)
class SendReport:
    """What `send_all` did: how many messages went out, which Zalo refused for good, and the ones left unsent (in
    order) after a failure that may pass. True when every message went out."""

    sent: int
    refused: tuple[dict, ...] = ()
    unsent: tuple[dict, ...] = ()

    def __bool__(self) -> bool:
        return not self.refused and not self.unsent


def _error_code(body: Any) -> int | None:
    """Zalo's `error` field as an int (it is 0 on success); None when absent or unreadable."""
    value = body.get("error") if isinstance(body, dict) else None
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


class ZaloClient:
    """Sends messages as the OA. Refreshes an expired access token once per failure, stores the rotated pair
    durably before using it, and lets concurrent senders share one refresh (refresh tokens are single-use)."""

    def __init__(
        self,
        store: TokenStore,
        app_id: str,
        app_secret: str,
        api_base_url: str = API_BASE_URL,
        oauth_base_url: str = OAUTH_BASE_URL,
        transport: Transport | None = None,
    ) -> None:
        self.store = store
        self.app_id = app_id
        self.app_secret = app_secret
        self.send_url = api_base_url.rstrip("/") + SEND_PATH
        self.refresh_url = oauth_base_url.rstrip("/") + REFRESH_PATH
        self.transport: Transport = transport or AiohttpTransport()
        self._pair: TokenPair | None = None
        self._unsaved = False  # a rotated pair the file refused: keep it in memory, retry the save later
        self._refresh_lock: asyncio.Lock | None = None

    @classmethod
    def from_settings(cls, settings: ZaloSettings, transport: Transport | None = None) -> ZaloClient:
        """The OA client for these settings: the token file seeded from ZALO_ACCESS_TOKEN / ZALO_REFRESH_TOKEN, over
        `transport` (aiohttp when None). The one place a ZaloClient is put together: the Rasa channel and the team
        notices (bot/messengers/wiring.py) share the token file through it."""
        store = TokenStore(settings.token_file, settings.access_token, settings.refresh_token)
        return cls(store, settings.app_id, settings.app_secret, settings.api_base_url, settings.oauth_base_url,
                   transport=transport)

    def _current(self) -> TokenPair | None:
        if self._pair is None:
            self._pair = self.store.load()
        return self._pair

    async def send_message(self, user_id: str, message: dict) -> SendResult:
        """Send one `message` object (text, optional button template) to a follower; never raises."""
        pair = self._current()
        if pair is None:
            log.error("Zalo send skipped: no access token (set ZALO_REFRESH_TOKEN or ZALO_TOKEN_FILE)")
            return SendResult(False, detail="no access token")
        if not pair.access_token:
            pair = await self.refresh(pair.access_token)
        result = await self._post(pair.access_token, user_id, message) if pair else SendResult(False, detail="no token")
        if result.error in EXPIRED_TOKEN_ERRORS and pair is not None:
            pair = await self.refresh(pair.access_token)
            if pair is not None:
                result = await self._post(pair.access_token, user_id, message)
        if not result.ok:
            log.warning("Zalo send to %s failed: error %s %s", user_ref(user_id), result.error, mask(result.detail))
        return result

    async def send_all(self, user_id: str, messages: list[dict]) -> SendReport:
        """Send messages in order. A message Zalo refuses for good is skipped and the next ones still go out; after a
        failure that may pass (network, outage) that message and the rest are returned unsent, in order, for the
        caller to keep (`zalo_outbox`): sending them now would most likely fail too, and out of order."""
        sent, refused = 0, list[dict]()
        for i, message in enumerate(messages):
            result = await self.send_message(user_id, message)
            if result.ok:
                sent += 1
            elif result.retryable:
                return SendReport(sent, tuple(refused), tuple(messages[i:]))
            else:
                refused.append(message)
        return SendReport(sent, tuple(refused))

    async def _post(self, access_token: str, user_id: str, message: dict) -> SendResult:
        headers = {"access_token": access_token, "Content-Type": "application/json"}
        try:
            reply = await self.transport.post(
                self.send_url, headers, json_body={"recipient": {"user_id": user_id}, "message": message}
            )
        except Exception as exc:  # network errors, timeouts
            return SendResult(False, detail=f"request failed: {type(exc).__name__}")
        if reply.status != 200:
            return SendResult(False, detail=f"HTTP {reply.status}")
        code = _error_code(reply.body)
        if code is None:
            return SendResult(False, detail="answer without an error code")
        if code != 0:
            return SendResult(False, code, str(reply.body.get("message") or "")[:200])
        return SendResult(True)

    async def refresh(self, failed_access_token: str) -> TokenPair | None:
        """A fresh pair after `failed_access_token` was refused: someone else's refresh if there was one since,
        else a new one from Zalo, stored before it is returned. None when refreshing failed (logged)."""
        if self._refresh_lock is None:
            self._refresh_lock = asyncio.Lock()
        async with self._refresh_lock:
            lock = self.store.locked()
            await asyncio.to_thread(lock.__enter__)
            try:
                return await self._refresh_locked(failed_access_token)
            finally:
                lock.__exit__(None, None, None)

    async def _refresh_locked(self, failed_access_token: str) -> TokenPair | None:
        if self._unsaved and self._pair is not None:
            pair: TokenPair | None = self._pair
        else:
            pair = self.store.load()  # another process sharing the file may have rotated it already
        if pair is not None and pair.access_token and pair.access_token != failed_access_token:
            self._pair = pair
            return pair
        if pair is None or not pair.refresh_token:
            log.error("Zalo access token expired and there is no refresh token: re-authorise the OA")
            return None
        form = {"refresh_token": pair.refresh_token, "app_id": self.app_id, "grant_type": "refresh_token"}
        try:
            reply = await self.transport.post(self.refresh_url, {"secret_key": self.app_secret}, form=form)
        except Exception as exc:
            log.error("Zalo token refresh failed: %s (the refresh token may be spent)", type(exc).__name__)
            return None
        body = reply.body if isinstance(reply.body, dict) else {}
        access, refresh = body.get("access_token"), body.get("refresh_token")
        if reply.status != 200 or not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
            log.error(
                "Zalo token refresh refused: HTTP %s, error %s %s: re-authorise the OA if this persists",
                reply.status, _error_code(body), mask(str(body.get("error_name") or body.get("message") or ""))[:200],
            )
            return None
        try:
            expires_at = time.time() + float(body.get("expires_in") or 0) or None
        except (TypeError, ValueError):
            expires_at = None
        new = TokenPair(access, refresh, expires_at, pair.seed)
        self._pair = new
        try:
            await asyncio.to_thread(self.store.save, new)
        except OSError as exc:
            self._unsaved = True
            log.error("Zalo tokens rotated but not stored (%s): kept in memory only, fix %s", exc, self.store.path)
        else:
            self._unsaved = False
            log.info("Zalo access token refreshed and stored")
        return new

    async def close(self) -> None:
        """Release the transport's connections."""
        await self.transport.close()


class ZaloSender:
    """Sends one text to a Zalo user who follows the OA (Zalo allows it within 7 days of their last message), split at
    Zalo's 2,000-character limit; never raises: False when any part did not go out (the client logs why)."""

    def __init__(self, client: ZaloClient) -> None:
        self.client = client

    async def send(self, user_id: str, text: str) -> bool:
        """True when Zalo took every part."""
        try:
            return bool(await self.client.send_all(user_id, [{"text": p} for p in split_text(text, MAX_TEXT_CHARS)]))
        except Exception as err:  # the client logs its own failures; this is for the unexpected
            log.warning("Zalo message to %s failed: %s", user_ref(user_id), type(err).__name__)
            return False

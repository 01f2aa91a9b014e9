"""Asking the action server to read a resident's screenshot, for channels that cannot run OCR themselves.

The Zalo and web chat channels run inside Rasa, whose environment cannot have pytesseract, and the Telegram relay is
a process of its own; all three post the picture's bytes to the action server's POST /screens/read
(bot/screens_route.py), found as Rasa finds the action server: ACTION_SERVER_URL (".../webhook") and
ACTION_SERVER_TOKEN (sent as ?token=, as Rasa does). `ScreenReader.read` turns every answer into a `Reading`:
text to send to Rasa as the resident's message (the channel puts `read_lead` before Rasa's answer), a private thing
on the picture (warn, send nothing), or unreadable (a polite request to type). The texts the channels reply with
live here too. Nothing is stored or logged: the bytes are the caller's and are dropped after the call.

HTTP goes through a `Fetcher` (aiohttp on the Rasa side, httpx in the relay), so the same logic serves both
environments; `download` fetches a picture by URL with the same size limit (Zalo's image messages carry one).
"""

from __future__ import annotations

import enum
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)
URL_ENV, TOKEN_ENV = "ACTION_SERVER_URL", "ACTION_SERVER_TOKEN"
ROUTE = "/screens/read"
MAX_IMAGE_BYTES = 10 * 1024 * 1024  # bot/screens/ocr.MAX_BYTES: larger pictures are not even downloaded
TIMEOUT_S = 40.0  # the route answers within about 25 s (tesseract's 20 s and decoding)
SCREENSHOT = "screenshot"  # the metadata key the channel sets on the turn (never the client)
MAX_TEXT_CHARS = 4000  # what goes to Rasa of a very long screen (the search reads long messages itself)

CANNOT_READ = (
    "Tôi chưa đọc được ảnh này. Bạn gõ chữ trên màn hình giúp tôi nhé (có dấu hay không dấu đều được), "
    "ví dụ: “Mã OTP không đúng”."
)
SENSITIVE_WARNING = (
    "⚠️ Ảnh này có vẻ chụp {what}. Bạn đừng gửi ảnh căn cước, thẻ ngân hàng hay mã OTP cho ai, kể cả người xưng là "
    "công an hay cán bộ. Tôi không đọc và không lưu ảnh này. Bạn cần hỏi gì, xin gõ bằng chữ (đừng gõ số riêng)."
)
READ_LEAD = "Tôi đọc được: “{}”. Nếu tôi đọc sai, bạn gõ lại chữ trên màn hình giúp tôi."
QUOTE_CHARS = 150
KIND_WORDS = {"id_card": "thẻ căn cước", "bank_card": "thẻ ngân hàng", "otp": "một mã OTP hay mã xác thực"}


class Outcome(enum.Enum):
    """What the channel does with a picture."""

    TEXT = "text"  # send the text to Rasa, with the screenshot marker
    SENSITIVE = "sensitive"  # warn; send nothing to Rasa
    UNREADABLE = "unreadable"  # ask the resident to type


@dataclass(frozen=True)
class Reading:
    """The action server's reading of one picture."""

    outcome: Outcome
    text: str = ""
    sensitive: str = ""

    @property
    def reply(self) -> str:
        """The channel's own reply for a picture it does not send on: the warning or the request to type."""
        if self.outcome is Outcome.SENSITIVE:
            return SENSITIVE_WARNING.format(what=KIND_WORDS.get(self.sensitive, "giấy tờ riêng"))
        return CANNOT_READ


UNREADABLE = Reading(Outcome.UNREADABLE)


def read_lead(text: str, limit: int = QUOTE_CHARS) -> str:
    """The line put before Rasa's answer to a picture: what was read (the first ~150 characters, one line, cut at a
    word), so the resident can correct it. Said by the channel, whatever Rasa made of the text."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = (flat[:limit].rsplit(" ", 1)[0] or flat[:limit]) + "…"
    return READ_LEAD.format(flat)


class Fetcher(Protocol):
    """The HTTP calls the reader needs; each returns (status, body) and raises OSError-like errors on failure."""

    async def post_bytes(self, url: str, params: dict[str, str], data: bytes, timeout: float) -> tuple[int, bytes]:
        """POST raw bytes."""
        ...

    async def get_limited(self, url: str, limit: int, timeout: float) -> tuple[int, bytes | None]:
        """GET, with None as body when it is over `limit` bytes (reading stops there)."""
        ...


class HttpxFetcher:
    """httpx (the relay's environment)."""

    async def post_bytes(self, url: str, params: dict[str, str], data: bytes, timeout: float) -> tuple[int, bytes]:
        import httpx

        async with httpx.AsyncClient(timeout=timeout) as client:
            r = await client.post(url, params=params, content=data,
                                  headers={"Content-Type": "application/octet-stream"})
        return r.status_code, r.content

    async def get_limited(self, url: str, limit: int, timeout: float) -> tuple[int, bytes | None]:
        import httpx

        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client, \
                client.stream("GET", url) as r:
            chunks, size = [], 0
            async for chunk in r.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    return r.status_code, None
                chunks.append(chunk)
            return r.status_code, b"".join(chunks)


class AiohttpFetcher:
    """aiohttp (Rasa's environment)."""

    async def post_bytes(self, url: str, params: dict[str, str], data: bytes, timeout: float) -> tuple[int, bytes]:
        import aiohttp

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session, \
                session.post(url, params=params, data=data, headers={"Content-Type": "application/octet-stream"}) as r:
            return r.status, await r.read()

    async def get_limited(self, url: str, limit: int, timeout: float) -> tuple[int, bytes | None]:
        import aiohttp

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session, \
                session.get(url, allow_redirects=False) as r:
            chunks, size = [], 0
            async for chunk in r.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > limit:
                    return r.status, None
                chunks.append(chunk)
            return r.status, b"".join(chunks)


def route_url(webhook_url: str, route: str = ROUTE) -> str:
    """A route of the action server beside Rasa's action endpoint (the reading route unless told otherwise):
    http://host:5055/webhook -> http://host:5055/screens/read."""
    base = webhook_url.split("?", 1)[0].rstrip("/")
    return base.removesuffix("/webhook") + route


class ScreenReader:
    """Posts pictures to the action server and reads its answer; never raises."""

    def __init__(self, url: str, token: str, fetcher: Fetcher, timeout_s: float = TIMEOUT_S) -> None:
        self.url, self.token, self.fetcher, self.timeout_s = url, token, fetcher, timeout_s

    @classmethod
    def from_env(cls, fetcher: Fetcher, env: Mapping[str, str] | None = None) -> ScreenReader | None:
        """The reader for ACTION_SERVER_URL; None when it is not set (pictures then get the request to type)."""
        env = os.environ if env is None else env
        url = env.get(URL_ENV, "").strip()
        if not url:
            return None
        return cls(route_url(url), env.get(TOKEN_ENV, "").strip(), fetcher)

    async def read(self, data: bytes) -> Reading:
        """The reading of one picture; UNREADABLE for anything that is not a clean answer (logged without content)."""
        if not data or len(data) > MAX_IMAGE_BYTES:
            return UNREADABLE
        params = {"token": self.token} if self.token else {}
        try:
            status, body = await self.fetcher.post_bytes(self.url, params, data, self.timeout_s)
        except Exception as err:  # network, timeout: the resident still gets an answer
            log.warning("screen reading failed: %s", type(err).__name__)
            return UNREADABLE
        if status != 200:
            log.info("screen reading refused: HTTP %s", status)
            return UNREADABLE
        return parse_answer(body)


def parse_answer(body: bytes) -> Reading:
    """The route's JSON as a Reading (UNREADABLE when it is not the expected shape or has no text)."""
    try:
        answer = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return UNREADABLE
    if not isinstance(answer, dict):
        return UNREADABLE
    kind = answer.get("sensitive")
    if isinstance(kind, str) and kind:
        return Reading(Outcome.SENSITIVE, sensitive=kind)
    text = answer.get("text")
    if not isinstance(text, str) or not text.strip():
        return UNREADABLE
    return Reading(Outcome.TEXT, text=text.strip()[:MAX_TEXT_CHARS])


async def download(fetcher: Fetcher, url: str, timeout_s: float = 20.0) -> bytes | None:
    """A picture by URL, at most MAX_IMAGE_BYTES (None when larger, not 200, or the fetch fails)."""
    try:
        status, body = await fetcher.get_limited(url, MAX_IMAGE_BYTES, timeout_s)
    except Exception as err:
        log.warning("picture download failed: %s", type(err).__name__)
        return None
    return body if status == 200 and body else None

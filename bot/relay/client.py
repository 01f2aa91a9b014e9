"""The relay's side of Rasa's relay door (bot/rasa_side/channels/relay.py): one user turn in, Rasa's messages out,
and a spoken reply's audio file, with the shared secret RELAY_SECRET in X-Relay-Secret. Every failure becomes
RasaUnavailable, which the handlers answer with an apology."""

from __future__ import annotations

import asyncio
import functools
from urllib.parse import urljoin

import httpx

from bot.messengers.telegram_api import AudioUnavailable
from bot.speech.tts import AUDIO_ROUTE

RELAY_SECRET_HEADER = "X-Relay-Secret"  # bot/rasa_side/channels/relay.py checks it (that module needs Rasa: not
                                        # imported)
SCREENSHOT_HEADER = "X-Relay-Screenshot"  # the door's screenshot marker (bot/rasa_side/channels/relay.py)
RETRY_AFTER_S = 0.5  # pause before sending a turn again whose connection was cut before any answer
MAX_VOICE_BYTES = 20 << 20  # Telegram takes up to 50 MB; a 1,500-character answer is about 0.3 MB


class RasaUnavailable(AudioUnavailable):
    """Rasa did not answer in time, or answered with something other than a list of messages."""


class RasaClient:
    """Talks to Rasa's relay door with the shared secret; every failure becomes RasaUnavailable."""

    def __init__(self, url: str, timeout: float, client: httpx.AsyncClient | None = None, secret: str = "") -> None:
        """Post to `url` with `secret` in X-Relay-Secret, giving up after `timeout` seconds for the whole turn."""
        self.url = url
        self.timeout = timeout
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout))
        self.headers = {RELAY_SECRET_HEADER: secret} if secret else {}

    async def ask(self, sender: str, text: str, screenshot: bool = False) -> list[dict]:
        """One user turn: Rasa's messages for `text` from `sender` (`screenshot`: read from the resident's picture)."""
        headers = {**self.headers, SCREENSHOT_HEADER: "1"} if screenshot else self.headers

        send = functools.partial(self.client.post, self.url, json={"sender": sender, "message": text}, headers=headers)

        async def post() -> httpx.Response:
            try:
                return await send()
            except (httpx.RemoteProtocolError, httpx.ReadError):
                # Cut before any answer (a Rasa server killed mid-turn): Rasa stores a turn only at its end, so the
                # message was never stored; sent once more (docs/scaling.md, "Faults under load").
                await asyncio.sleep(RETRY_AFTER_S)
                return await send()

        try:
            response = await asyncio.wait_for(post(), self.timeout)
        except (asyncio.TimeoutError, httpx.TimeoutException):
            raise RasaUnavailable(f"no answer within {self.timeout:g} s") from None
        except httpx.HTTPError as err:
            raise RasaUnavailable(type(err).__name__) from None
        if response.status_code != 200:
            raise RasaUnavailable(f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise RasaUnavailable("reply is not JSON") from None
        if not isinstance(data, list):
            raise RasaUnavailable("reply is not a list of messages")
        return [m for m in data if isinstance(m, dict)]

    async def audio(self, name: str) -> bytes:
        """A spoken reply's file from the Rasa server's audio route (`bot.speech.tts.AUDIO_ROUTE`), at most 20 MB."""
        url = urljoin(self.url, AUDIO_ROUTE + name)
        try:
            response = await asyncio.wait_for(self.client.get(url), self.timeout)
        except (asyncio.TimeoutError, httpx.HTTPError) as err:
            raise RasaUnavailable(f"audio: {type(err).__name__}") from None
        if response.status_code != 200 or not response.content or len(response.content) > MAX_VOICE_BYTES:
            raise RasaUnavailable(f"audio: HTTP {response.status_code}, {len(response.content)} bytes")
        return response.content

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()

"""Sending to Telegram: the one way the project puts a message into a Telegram chat, on python-telegram-bot.

`send` delivers a reply's messages in order (plain text, no link previews, inline keyboards, voice notes, the first
message optionally quoting the resident's); the relay (bot/relay/handlers.py) calls it with its application's bot.
`TelegramSender` sends one text on its own, outside a resident's turn (team notices and staff replies:
bot/handoff/notify.py through bot/messengers/wiring.py), with the relay's token and TELEGRAM_API_BASE_URL (tests point
it at tests/fakes/telegram_api.py). Rules for texts and buttons: telegram_format.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, ReplyParameters
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from bot.core.privacy import mask
from bot.core.settings import TelegramSettings
from bot.core.text import split_text
from bot.messengers.telegram_format import MAX_MESSAGE, Outgoing, VoiceNote, tg_len

log = logging.getLogger(__name__)
TIMEOUT_S = 10.0
# httpx logs every request URL at INFO, and a Bot API URL holds the token.
logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))


class AudioUnavailable(Exception):
    """A spoken reply's file could not be had (the relay's Rasa client raises its subclass)."""


AudioSource = Callable[[str], Awaitable[bytes]]  # a spoken reply's file by its served name


def markup(outgoing: Outgoing) -> InlineKeyboardMarkup | None:
    """The inline keyboard of one outgoing message."""
    if not outgoing.keyboard:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.title, url=b.url)
                if b.url
                else InlineKeyboardButton(b.title, callback_data=b.callback_data)
                for b in row
            ]
            for row in outgoing.keyboard
        ]
    )


async def send_voice(bot: Bot, chat_id: int | str, note: VoiceNote, audio: AudioSource | None) -> bool:
    """Send a spoken reply as a voice message; False when the audio or Telegram failed (logged)."""
    if audio is None:
        return False
    try:
        data = await audio(note.name)
        await bot.send_voice(chat_id, voice=data, duration=note.duration_s, filename="ban-doc.ogg")
    except (AudioUnavailable, TelegramError) as err:
        log.warning("voice message not sent (%s: %s): sent the apology", type(err).__name__, err)
        return False
    return True


async def send(
    bot: Bot,
    chat_id: int | str,
    outgoing: Sequence[Outgoing],
    reply_to: int | None = None,
    audio: AudioSource | None = None,
) -> None:
    """Send messages in order, as plain text (no Markdown to escape), the first one quoting `reply_to`.
    Flood control: wait as Telegram says and retry once. Buttons Telegram refuses: send the text alone.
    Voice messages get their OGG file from `audio`; without it (or when that fails) their text is sent."""
    for i, out in enumerate(outgoing):
        if out.voice is not None and await send_voice(bot, chat_id, out.voice, audio):
            continue
        kwargs: dict[str, Any] = {
            "reply_markup": markup(out), "link_preview_options": LinkPreviewOptions(is_disabled=True),
        }
        if reply_to is not None and i == 0:
            kwargs["reply_parameters"] = ReplyParameters(reply_to, allow_sending_without_reply=True)
        for attempt in range(3):
            try:
                await bot.send_message(chat_id, out.text, **kwargs)
                break
            except RetryAfter as err:
                if attempt:
                    raise
                wait = err.retry_after
                await asyncio.sleep(wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait))
            except BadRequest as err:
                if kwargs["reply_markup"] is None:
                    raise
                log.warning("Telegram refused the buttons (%s): sent the text without them", err)
                kwargs["reply_markup"] = None


class TelegramSender:
    """Sends one text to a Telegram chat as the relay's bot (split at Telegram's 4,096 limit); never raises: a
    failure is logged without the token and with numbers masked, and reported as False."""

    def __init__(self, token: str, api_base_url: str, timeout_s: float = TIMEOUT_S) -> None:
        self._token = token
        self.api_base_url = api_base_url.rstrip("/")
        self.timeout_s = timeout_s

    @classmethod
    def from_settings(cls, settings: TelegramSettings) -> TelegramSender | None:
        """The sender for the configured bot; None without TELEGRAM_BOT_TOKEN."""
        return cls(settings.token, settings.api_base_url) if settings.token else None

    def _hide(self, text: str) -> str:
        return mask(text.replace(self._token, "<token>"))

    async def send(self, chat_id: str, text: str) -> bool:
        """Send `text` to `chat_id` (a chat id or @channel name); True when Telegram took every piece."""
        timeout = self.timeout_s
        request = HTTPXRequest(connection_pool_size=1, read_timeout=timeout, write_timeout=timeout,
                               connect_timeout=timeout, pool_timeout=timeout)
        bot = Bot(self._token, base_url=f"{self.api_base_url}/bot", base_file_url=f"{self.api_base_url}/file/bot",
                  request=request, get_updates_request=request)
        try:
            await send(bot, chat_id, [Outgoing(piece) for piece in split_text(text, MAX_MESSAGE, size=tg_len)])
        except TelegramError as err:
            log.warning("Telegram sendMessage failed: %s: %s", type(err).__name__, self._hide(str(err))[:200])
            return False
        finally:
            await request.shutdown()
        return True

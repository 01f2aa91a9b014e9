"""Messages the bot sends on its own, outside a resident's turn: a new ticket announced to the commune's team, and
staff replies and closing notes delivered to the resident on their channel.

Telegram: the Bot API's sendMessage over httpx, with the relay's token (TELEGRAM_BOT_TOKEN) and a configurable
base URL (TELEGRAM_API_BASE_URL, so tests use tests/fakes/telegram_api.py). Zalo: the OA send API through
bot.messengers.zalo_client (tokens shared with the Zalo channel through its token file). The web chat page and other
REST clients cannot be pushed to: their messages wait in the ticket store until the page polls its inbox.

Nothing here raises: a failure is logged (masked, never with a token) and reported as False, so a team that
cannot be reached never breaks a resident's reply.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from bot.core.privacy import mask
from bot.core.settings import Settings
from bot.handoff.directory import Target
from bot.handoff.tickets import TELEGRAM, ZALO, reach
from bot.messengers.telegram_format import split_text as split_telegram
from bot.messengers.zalo_client import HttpReply, ZaloClient, ZaloSettings
from bot.messengers.zalo_events import split_text as split_zalo, user_ref
from bot.messengers.zalo_tokens import TokenStore

log = logging.getLogger(__name__)
TIMEOUT_S = 10.0
# httpx logs every request URL at INFO, and a Bot API URL holds the token.
logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))


class HttpxTransport:
    """zalo_client's Transport on httpx (the action server and the admin page have no aiohttp)."""

    def __init__(self, timeout_s: float = TIMEOUT_S) -> None:
        self.timeout_s = timeout_s

    async def post(self, url: str, headers: dict[str, str], json_body: dict | None = None,
                   form: dict[str, str] | None = None) -> HttpReply:
        async with httpx.AsyncClient(timeout=self.timeout_s) as client:
            response = await client.post(url, headers=headers, json=json_body, data=form)
        try:
            body = response.json()
        except ValueError:
            body = None
        return HttpReply(response.status_code, body)

    async def close(self) -> None:
        """Nothing kept open between calls."""


@dataclass(frozen=True)
class Delivery:
    """What happened to a message for a resident: sent through their channel, or left for the web page's inbox."""

    sent: bool
    waits_in_inbox: bool = False
    detail: str = ""


class Notifier:
    """Sends to Telegram chats and Zalo users; built from Settings (and ZALO_* like the Zalo channel)."""

    def __init__(self, telegram_token: str = "", telegram_api: str = "https://api.telegram.org",
                 zalo: ZaloClient | None = None, timeout_s: float = TIMEOUT_S) -> None:
        self._token = telegram_token
        self.telegram_api = telegram_api.rstrip("/")
        self.zalo = zalo
        self.timeout_s = timeout_s

    @classmethod
    def from_settings(cls, settings: Settings, env: Mapping[str, str] | None = None) -> Notifier:
        zalo_settings = ZaloSettings.from_sources(None, os.environ if env is None else env)
        zalo = None
        if zalo_settings.app_secret or zalo_settings.access_token or zalo_settings.refresh_token:
            store = TokenStore(zalo_settings.token_file, zalo_settings.access_token, zalo_settings.refresh_token)
            zalo = ZaloClient(store, zalo_settings.app_id, zalo_settings.app_secret, zalo_settings.api_base_url,
                              zalo_settings.oauth_base_url, transport=HttpxTransport())
        return cls(settings.telegram_token, settings.telegram_api_base_url, zalo)

    def _hide(self, text: str) -> str:
        return mask(text.replace(self._token, "<token>") if self._token else text)

    async def telegram(self, chat_id: str | int, text: str) -> bool:
        """Send a text to a Telegram chat (split at Telegram's 4,096 limit)."""
        if not self._token:
            log.warning("Telegram message not sent: TELEGRAM_BOT_TOKEN is not set")
            return False
        url = f"{self.telegram_api}/bot{self._token}/sendMessage"
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                for piece in split_telegram(text):
                    response = await client.post(url, json={"chat_id": chat_id, "text": piece,
                                                            "link_preview_options": {"is_disabled": True}})
                    if response.status_code != 200:
                        try:
                            detail = str(response.json().get("description") or "")
                        except ValueError:
                            detail = ""
                        log.warning("Telegram sendMessage failed: HTTP %d %s", response.status_code,
                                    self._hide(detail)[:200])
                        return False
        except httpx.HTTPError as err:
            log.warning("Telegram sendMessage failed: %s", type(err).__name__)
            return False
        return True

    async def zalo_user(self, user_id: str, text: str) -> bool:
        """Send a text to a Zalo user who follows the OA (Zalo allows it within 7 days of their last message)."""
        if self.zalo is None:
            log.warning("Zalo message to %s not sent: the Zalo channel is not configured", user_ref(user_id))
            return False
        try:
            return bool(await self.zalo.send_all(user_id, [{"text": part} for part in split_zalo(text)]))
        except Exception as err:  # the client logs its own failures; this is for the unexpected
            log.warning("Zalo message to %s failed: %s", user_ref(user_id), type(err).__name__)
            return False

    async def team(self, target: Target, text: str) -> bool:
        """Tell the team: the Telegram group and every Zalo member, concurrently. True if anyone was reached."""
        if not target:
            log.info("new ticket: no team to notify (set notify: in the contacts file)")
            return False
        sends = []
        if target.telegram_chat:
            sends.append(self.telegram(target.telegram_chat, text))
        sends += [self.zalo_user(user, text) for user in target.zalo_users]
        results = await asyncio.gather(*sends)
        if not all(results):
            log.warning("team notice reached %d of %d recipients", sum(results), len(results))
        return any(results)

    async def resident(self, sender_id: str, text: str) -> Delivery:
        """Deliver a staff message on the resident's channel; web chat and REST residents fetch it themselves."""
        where = reach(sender_id)
        if where.channel == TELEGRAM and where.address:
            ok = await self.telegram(where.address, text)
            return Delivery(ok, detail="" if ok else "Telegram không nhận tin")
        if where.channel == ZALO and where.address:
            ok = await self.zalo_user(where.address, text)
            return Delivery(ok, detail="" if ok else "Zalo không nhận tin (người dân cần nhắn cho OA trong 7 ngày qua)")
        return Delivery(False, waits_in_inbox=True)

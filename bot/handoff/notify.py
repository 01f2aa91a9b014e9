"""Messages the bot sends on its own, outside a resident's turn: a new ticket announced to the commune's team, and
staff replies and closing notes delivered to the resident on their channel.

This module decides who is told and through which channel; the sending itself goes through `Sender`s, one per
messenger, plugged in by bot/messengers/wiring.py (`notifier(settings)`: Telegram with the relay's token, Zalo with
the channel's token file). The web chat page and other REST clients cannot be pushed to: their messages wait in the
ticket store until the page polls its inbox.

Nothing here raises: a sender reports failure as False (it logs why, masked and never with a token), so a team that
cannot be reached never breaks a resident's reply.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from bot.handoff.directory import Target
from bot.handoff.tickets import TELEGRAM, ZALO, reach

log = logging.getLogger(__name__)


class Sender(Protocol):
    """One messenger's way to put a text in front of someone: a Telegram chat id, a Zalo user id."""

    async def send(self, target: str, text: str) -> bool:
        """True when the messenger took the whole text; False (logged by the sender) otherwise. Never raises."""
        ...


@dataclass(frozen=True)
class Delivery:
    """What happened to a message for a resident: sent through their channel, or left for the web page's inbox."""

    sent: bool
    waits_in_inbox: bool = False
    detail: str = ""


class Notifier:
    """Tells the team and reaches residents through the senders it was given (None: that channel is not set up)."""

    def __init__(self, telegram: Sender | None = None, zalo: Sender | None = None) -> None:
        self.telegram = telegram
        self.zalo = zalo

    async def _telegram(self, chat_id: str, text: str) -> bool:
        if self.telegram is None:
            log.warning("Telegram message not sent: TELEGRAM_BOT_TOKEN is not set")
            return False
        return await self.telegram.send(chat_id, text)

    async def _zalo(self, user_id: str, text: str) -> bool:
        if self.zalo is None:
            log.warning("Zalo message not sent: the Zalo channel is not configured")
            return False
        return await self.zalo.send(user_id, text)

    async def team(self, target: Target, text: str) -> bool:
        """Tell the team: the Telegram group and every Zalo member, concurrently. True if anyone was reached."""
        if not target:
            log.info("new ticket: no team to notify (set notify: in the contacts file)")
            return False
        sends = []
        if target.telegram_chat:
            sends.append(self._telegram(target.telegram_chat, text))
        sends += [self._zalo(user, text) for user in target.zalo_users]
        results = await asyncio.gather(*sends)
        if not all(results):
            log.warning("team notice reached %d of %d recipients", sum(results), len(results))
        return any(results)

    async def resident(self, sender_id: str, text: str) -> Delivery:
        """Deliver a staff message on the resident's channel; web chat and REST residents fetch it themselves."""
        where = reach(sender_id)
        if where.channel == TELEGRAM and where.address:
            ok = await self._telegram(where.address, text)
            return Delivery(ok, detail="" if ok else "Telegram không nhận tin")
        if where.channel == ZALO and where.address:
            ok = await self._zalo(where.address, text)
            return Delivery(ok, detail="" if ok else "Zalo không nhận tin (người dân cần nhắn cho OA trong 7 ngày qua)")
        return Delivery(False, waits_in_inbox=True)

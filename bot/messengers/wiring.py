"""Where the messengers are plugged into the domain: the team notices and staff replies of bot/handoff/notify.py get
their concrete senders here (Telegram through telegram_api.py, Zalo through zalo_client.py over httpx), from the one
Settings. Front ends (actions, bot/admin) call `notifier(settings)`; bot/handoff itself never imports a messenger."""

from __future__ import annotations

from bot.core.settings import Settings
from bot.handoff.notify import Notifier
from bot.messengers.http import HttpxTransport
from bot.messengers.telegram_api import TelegramSender
from bot.messengers.zalo_client import ZaloClient, ZaloSender


def notifier(settings: Settings) -> Notifier:
    """A Notifier that reaches Telegram with the relay's token and Zalo with the channel's token file; a channel
    without credentials gets no sender (its messages are logged as not sent)."""
    zalo = ZaloSender(ZaloClient.from_settings(settings.zalo, HttpxTransport())) if settings.zalo.can_send else None
    return Notifier(telegram=TelegramSender.from_settings(settings.telegram), zalo=zalo)

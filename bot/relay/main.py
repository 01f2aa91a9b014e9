"""Telegram channel: a relay between Telegram and Rasa's relay door (bot/rasa_side/channels/relay.py), on
python-telegram-bot. This module starts it; the rest of the relay:

- `bot/relay/client.py`: talking to Rasa's relay door (RasaClient);
- `bot/relay/handlers.py`: the python-telegram-bot handlers and the application;
- `bot/relay/webhook.py`: webhook mode's HTTP server.

Runs in the action-server environment (.venv-actions), as its own process:

    TELEGRAM_BOT_TOKEN=... RELAY_SECRET=... python -m bot.relay

RELAY_SECRET is the same value Rasa has: the relay sends it in X-Relay-Secret, and only the relay door may speak
for `tg-` conversations.

Polling (default) needs no public address; webhook mode (TELEGRAM_MODE=webhook) serves Telegram's
POSTs and rejects every request whose X-Telegram-Bot-Api-Secret-Token is missing or wrong (403).
Settings: `bot.core.settings.TelegramSettings`; the rules for texts, buttons and groups:
`bot/messengers/telegram_format.py`; the operator's guide: `docs/telegram.md`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence

from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.core import logs
from bot.core.privacy import mask
from bot.core.settings import ConfigError, TelegramSettings
from bot.relay.handlers import build_application, post_init, post_shutdown
from bot.relay.webhook import webhook_server

log = logging.getLogger("bot.relay.telegram")  # one name for all the relay's lines, as before it was split

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


def polling_error(err: TelegramError) -> None:
    """A failed getUpdates (Telegram unreachable for a moment): one line, PTB retries on its own."""
    log.warning("polling: %s: %s", type(err).__name__, err)


def stop_on_signals(stop: asyncio.Event) -> None:
    """Set `stop` on SIGINT or SIGTERM (Ctrl-C, systemd, docker stop)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def serve(settings: TelegramSettings, stop: asyncio.Event | None = None) -> None:
    """Run the relay until `stop` is set (without one: until SIGINT or SIGTERM).

    Polling: delete any webhook, then long-poll getUpdates. Webhook: listen, register the webhook
    with its secret at Telegram, and queue what Telegram POSTs. Errors while connecting (a rejected
    token, an unreachable API) propagate to the caller before anything is served."""
    if stop is None:
        stop = asyncio.Event()
        stop_on_signals(stop)
    polling = settings.mode == "polling"
    application = build_application(settings, polling=polling)
    server = None if polling else webhook_server(application, settings)
    try:
        await application.initialize()  # getMe: checks the token
        await post_init(application)
        if polling:
            await application.updater.start_polling(
                allowed_updates=ALLOWED_UPDATES, bootstrap_retries=3, error_callback=polling_error
            )
            log.info("polling mode: waiting for updates")
        else:
            server.listen(settings.port, settings.listen)
            await application.bot.set_webhook(
                settings.webhook_url, secret_token=settings.webhook_secret, allowed_updates=ALLOWED_UPDATES
            )
            log.info(
                "webhook mode: listening on %s:%d%s",
                settings.listen,
                settings.port,
                settings.webhook_path,
                extra={"trusted": True},
            )
        await application.start()
        await stop.wait()
        log.info("stopping")
    finally:
        if server is not None:
            server.stop()
        if application.updater and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        await post_shutdown(application)


class RedactingFormatter(logging.Formatter):
    """Masks personal numbers (bot.core.privacy.mask) and secrets in every formatted line, tracebacks included."""

    def __init__(self, fmt: str, secrets: Sequence[str]) -> None:
        """Format with `fmt`, replacing each of `secrets` by a placeholder."""
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        """The masked line (a record logged with extra={"trusted": True} holds settings only: not masked)."""
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "<secret>")
        return text if getattr(record, "trusted", False) else mask(text)


def configure_logging(settings: TelegramSettings) -> None:
    """Log through the redacting formatter (stderr, or <BOT_LOG_DIR>/telegram.log rotated: bot/core/logs.py); keep
    chatty libraries (URLs hold the token) quiet."""
    formatter = RedactingFormatter(logs.FORMAT, [settings.token, settings.webhook_secret or "", settings.relay_secret])
    logs.configure("telegram", settings.log_level, formatter=formatter)
    root = logging.getLogger()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # logs every request URL, which contains the token
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("telegram").setLevel(max(logging.INFO, root.level))  # its DEBUG logs whole updates
    logging.getLogger("tornado").setLevel(logging.WARNING)
    logging.getLogger("asyncio").setLevel(logging.WARNING)


def main(env: dict[str, str] | None = None) -> int:
    """Start the relay in the configured mode; exit 2 on a settings problem, 1 if Telegram refuses."""
    try:
        settings = TelegramSettings.from_env(os.environ if env is None else env)
    except ConfigError as err:
        print(f"telegram: {err}", file=sys.stderr)
        return 2
    configure_logging(settings)
    log.info(
        "starting in %s mode; Rasa at %s (timeout %g s); Telegram API at %s",
        settings.mode,
        settings.rasa_url,
        settings.rasa_timeout,
        settings.api_base_url,
        extra={"trusted": True},
    )
    try:
        asyncio.run(serve(settings))
    except InvalidToken:
        print(
            "telegram: Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather (/mybots → API Token).",
            file=sys.stderr,
        )
        return 1
    except (NetworkError, OSError) as err:
        print(f"telegram: cannot reach {settings.api_base_url} or open the port: {err}", file=sys.stderr)
        return 1
    except TelegramError as err:
        print(f"telegram: Telegram refused to start the bot: {err}", file=sys.stderr)
        return 1
    return 0

"""Webhook mode (TELEGRAM_MODE=webhook): a small tornado server that takes Telegram's POSTs, rejects every request
whose X-Telegram-Bot-Api-Secret-Token is missing or wrong (403) or whose body is not an update (400), and queues
the rest for python-telegram-bot's handlers (bot/relay/handlers.py)."""

from __future__ import annotations

import json
import logging

import tornado.httpserver
import tornado.web
from telegram import Bot as TelegramBot, Update
from telegram.ext import Application

from bot.core.settings import TelegramSettings
from bot.messengers.telegram_format import secret_matches

log = logging.getLogger("bot.relay.telegram")  # one name for all the relay's lines, as before it was split

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_WEBHOOK_BODY = 1 << 20


def read_update(body: bytes, bot: TelegramBot) -> Update | None:
    """The update in a webhook body; None for anything else (not JSON, nested past Python's limit, not an update)."""
    try:
        data = json.loads(body)
        return Update.de_json(data, bot) if isinstance(data, dict) else None
    except Exception:  # RecursionError included: a hostile body is a 400, never a crash
        return None


class WebhookHandler(tornado.web.RequestHandler):
    """Receives Telegram's POSTs: checks the secret token, then hands the update to PTB's queue."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, ptb: Application, secret: str) -> None:
        """Feed `ptb`'s update queue, accepting only requests that carry `secret`."""
        self.ptb = ptb
        self.secret = secret

    async def post(self) -> None:
        """Queue one update; 403 without the right secret token, 400 for a body that is not an update."""
        if not secret_matches(self.request.headers.get(SECRET_HEADER), self.secret):
            log.warning("webhook: rejected a request without the right secret token")
            raise tornado.web.HTTPError(403)
        update = read_update(self.request.body, self.ptb.bot)
        if update is None:
            raise tornado.web.HTTPError(400)
        await self.ptb.update_queue.put(update)
        self.set_status(200)
        self.finish()

    def write_error(self, status_code: int, **kwargs: object) -> None:
        """A bare status line, no HTML page and no traceback."""
        self.finish(f"{status_code} {self._reason}\n")

    def log_exception(self, typ: object, value: object, tb: object) -> None:
        """Log only the status of a rejected request, never its body."""
        if not isinstance(value, tornado.web.HTTPError):
            log.error("webhook handler failed: %s", type(value).__name__)


def webhook_server(application: Application, settings: TelegramSettings) -> tornado.httpserver.HTTPServer:
    """A small HTTP server that feeds Telegram's webhook POSTs into the application's update queue."""
    app = tornado.web.Application(
        [(settings.webhook_path, WebhookHandler, {"ptb": application, "secret": settings.webhook_secret})],
        log_function=lambda handler: None,
    )
    return tornado.httpserver.HTTPServer(app, max_body_size=MAX_WEBHOOK_BODY)

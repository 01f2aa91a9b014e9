"""The Telegram relay's own door, /webhooks/relay/webhook: the only way to speak as a Telegram chat (`tg-…`).

The relay (bot/relay/, a separate process) sends the shared secret RELAY_SECRET in the X-Relay-Secret
header; it is compared in constant time. Without RELAY_SECRET in Rasa's environment this door answers 503 and the
rest of the bot runs. The public REST door namespaces every sender to `web-…`, so nobody else can reach a Telegram
resident's conversation, ticket or staff reply.
"""

from __future__ import annotations

import hmac
import logging
import os
from typing import Any

from sanic import response
from sanic.request import Request

from bot.rasa_side.channels.rest import DoorInput
from bot.rasa_side.channels.validation import relay_conversation_id

log = logging.getLogger(__name__)
SECRET_ENV = "RELAY_SECRET"
SECRET_HEADER = "X-Relay-Secret"
SCREENSHOT_HEADER = "X-Relay-Screenshot"  # "1": the text was read from the resident's picture (the relay's word only)
MIN_SECRET_CHARS = 16
NOT_CONFIGURED = f"the relay door is off: set {SECRET_ENV} (the same value for Rasa and the Telegram relay)"


def secret_accepted(supplied: str | None, expected: str) -> bool:
    """Whether the header carries the configured secret (constant time; bytes, so any header text compares)."""
    if not supplied:
        return False
    return hmac.compare_digest(supplied.encode("utf-8", "replace"), expected.encode("utf-8"))


class RelayInput(DoorInput):
    """Turns from the Telegram relay, authenticated by the shared secret; only `tg-<chat id>` senders."""

    def __init__(self, secret: str | None = None) -> None:
        """Accept requests that carry `secret` (default: RELAY_SECRET from the environment)."""
        secret = (os.environ.get(SECRET_ENV, "") if secret is None else secret).strip()
        if secret and len(secret) < MIN_SECRET_CHARS:
            log.error("%s is shorter than %d characters: the relay door stays off", SECRET_ENV, MIN_SECRET_CHARS)
            secret = ""
        self.secret = secret

    @classmethod
    def name(cls) -> str:
        """Mounted at /webhooks/relay/."""
        return "relay"

    def refusal(self, request: Request) -> response.HTTPResponse | None:
        """503 while no secret is configured, 403 without the right one."""
        if not self.secret:
            return response.json({"error": NOT_CONFIGURED}, status=503)
        if not secret_accepted(request.headers.get(SECRET_HEADER), self.secret):
            log.warning("relay door: refused a request without the right secret")
            return response.json({"error": "forbidden"}, status=403)
        return None

    def metadata(self, request: Request) -> dict[str, Any]:
        """No address (the relay's is not a resident's: per-address limits do not apply); the screenshot marker
        when the relay read the text from a picture (trusted: refusal() checked the secret first)."""
        return {"screenshot": True} if request.headers.get(SCREENSHOT_HEADER) == "1" else {}

    def conversation_id(self, sender: str) -> str:
        """The Telegram chat's conversation, `tg-<chat id>`; anything else is Refused(400)."""
        return relay_conversation_id(sender)

"""Rasa's REST channel, hardened: bad bodies get a clear 400, personal numbers are masked on the way in, and a
turn that produced no reply (action server down, an error inside Rasa) gets a short apology instead of silence.

Named `rest`, so the URL stays /webhooks/rest/webhook; `credentials.yml` selects it by module path.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

from bot.channels.validation import rest_body_problem
from bot.privacy import mask

log = logging.getLogger(__name__)
APOLOGY = (
    "Xin lỗi, hệ thống đang bận nên tôi chưa trả lời được. Bạn vui lòng thử lại sau ít phút, "
    "hoặc liên hệ Tổ công nghệ số cộng đồng, công an xã/phường để được hỗ trợ."
)


def guarded(on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Callable[[UserMessage], Awaitable[None]]:
    """Wrap Rasa's message handler so every REST turn ends with at least one reply."""

    async def handle(message: UserMessage) -> None:
        try:
            await on_new_message(message)
        except Exception:  # Rasa would log the raw text; log it masked and still answer
            log.exception("turn failed for message %r", mask(message.text or ""))
        out = message.output_channel
        if isinstance(out, CollectingOutputChannel) and not out.messages:
            await out.send_text_message(message.sender_id, APOLOGY)

    return handle


class ValidatedRestInput(RestInput):
    """REST input that rejects malformed bodies and never answers with silence."""

    @classmethod
    def name(cls) -> str:
        """Same name (and URL) as Rasa's own REST channel."""
        return "rest"

    def _extract_message(self, req: Request) -> str | None:
        """The message with personal numbers masked (bot.privacy), before it becomes a UserMessage: the
        tracker store, Rasa's logs and the actions only ever see placeholders. Payloads survive (no digits)."""
        text = super()._extract_message(req)
        return mask(text) if isinstance(text, str) else text

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's REST routes with the guarded handler, plus a body check on the webhook."""
        blueprint = super().blueprint(guarded(on_new_message))

        @blueprint.middleware("request")
        async def check_body(request: Request) -> response.HTTPResponse | None:
            if request.method == "POST" and request.path.endswith("/webhook"):
                problem = rest_body_problem(request.body or b"")
                if problem:
                    return response.json({"error": problem}, status=400)
            return None

        return blueprint

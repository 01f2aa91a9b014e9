"""The public REST door, /webhooks/rest/webhook (the web chat page and REST clients such as graders): bodies of at
most 64 KB and sane nesting, a required `sender` of a safe charset, namespaced to `web-…` so it can only ever
address a web conversation; client `metadata` and `input_channel` are dropped; personal numbers are masked on the
way in; a turn that produced no reply (action server down, an error inside Rasa) gets a short apology, and so does
a turn still running after the deadline (action server frozen: bot/rasa_side/channels/deadline.py).

`DoorInput` is the shared machinery; the Telegram relay's authenticated door (bot/rasa_side/channels/relay.py) is
another one.
`credentials.yml` selects the channels by module path.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request

from bot.core.copy import BUSY_APOLOGY
from bot.core.limits import CLIENT_ADDRESS
from bot.core.privacy import mask, mask_incoming
from bot.rasa_side import prefetch_sender
from bot.rasa_side.channels.deadline import run_turn
from bot.rasa_side.channels.server_setup import prepare_rasa_server
from bot.rasa_side.channels.validation import MAX_BODY_BYTES, Refused, Turn, read_turn, web_conversation_id

log = logging.getLogger(__name__)
APOLOGY = BUSY_APOLOGY


# The client's address reaches the actions (per-address limits, bot/core/limits.py) only as a keyed hash, so the tracker
# store never holds it in the clear. CLIENT_ADDRESS_KEY makes the tag the same on every Rasa server; without it,
# each process draws its own key.
_ADDRESS_KEY = (os.environ.get("CLIENT_ADDRESS_KEY", "").strip() or secrets.token_hex(32)).encode()


def address_tag(address: str) -> str:
    """A stable pseudonym for a client address (32 hex characters)."""
    return hmac.new(_ADDRESS_KEY, address.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:32]


def door_metadata(request: Request) -> dict[str, str]:
    """What the door itself knows about the client: the address (Sanic reads X-Forwarded-For only when configured
    to trust a proxy: SANIC_PROXIES_COUNT or SANIC_REAL_IP_HEADER), as a tag. Nothing the client sent."""
    address = request.remote_addr or request.ip
    return {CLIENT_ADDRESS: address_tag(address)} if address else {}


def guarded(on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Callable[[UserMessage], Awaitable[None]]:
    """Wrap Rasa's message handler so every REST turn ends with at least one reply, within the turn deadline: a turn
    that failed or said nothing gets the apology; one still running at the deadline gets it after what it said."""
    prepare_rasa_server()  # a door is built inside Rasa's server: action calls time out, answers are checked fast

    async def handle(message: UserMessage) -> None:
        sender = prefetch_sender.shared()
        if sender is not None:  # the search's head start, before Rasa's lock and tracker (masked text only)
            sender.send(message.text or "")
        in_time = True
        try:
            in_time = await run_turn(on_new_message(message))
        except Exception:  # Rasa would log the raw text; log it masked and still answer
            log.exception("turn failed for message %r", mask(message.text or ""))
        if not in_time:
            log.warning("turn still running at the deadline: answered with the apology")
        out = message.output_channel
        if isinstance(out, CollectingOutputChannel) and (not in_time or not out.messages):
            await out.send_text_message(message.sender_id, APOLOGY)

    return handle


class DoorInput(InputChannel):
    """A JSON door in front of Rasa: reads at most MAX_BODY_BYTES, checks the body
    (bot/rasa_side/channels/validation.py),
    lets the subclass authenticate the caller and choose the conversation id, masks the text, and answers with
    the collected replies (never silence). The door names the input channel itself; client metadata and
    input_channel are dropped, the only metadata is the door's own (`door_metadata`)."""

    def refusal(self, request: Request) -> response.HTTPResponse | None:
        """A response that turns the caller away before the body is read; None lets the request in."""
        return None

    def conversation_id(self, sender: str) -> str:
        """The Rasa conversation a checked sender speaks in; raise Refused when this door may not use it."""
        raise NotImplementedError

    def metadata(self, request: Request) -> dict[str, Any]:
        """The metadata the door attaches to a turn (never the client's own)."""
        return door_metadata(request)

    async def read_body(self, request: Request) -> bytes:
        """The body, read only up to the limit: a larger one (declared or streamed) is Refused(413) unread."""
        declared = request.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise Refused(413, f"the body is larger than {MAX_BODY_BYTES // 1024} KB")
        if request.stream is not None:
            request.stream.request_max_size = MAX_BODY_BYTES
        try:
            await request.receive_body()
        except PayloadTooLarge:
            raise Refused(413, f"the body is larger than {MAX_BODY_BYTES // 1024} KB") from None
        return request.body or b""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """GET / (health) and POST /webhook; the webhook streams its body so the size limit holds before reading."""
        handle = guarded(on_new_message)
        blueprint = Blueprint(f"{self.name()}_door", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(request: Request) -> response.HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> response.HTTPResponse:
            turned_away = self.refusal(request)
            if turned_away is not None:
                return turned_away
            try:
                turn: Turn = read_turn(await self.read_body(request))
                sender = self.conversation_id(turn.sender)
            except Refused as refused:
                return response.json({"error": refused.reason}, status=refused.status)
            collector = CollectingOutputChannel()
            # Masked here, before it becomes a UserMessage: the tracker store, Rasa's logs and the actions only
            # ever see placeholders. Payloads ("/ask_question{...}") survive (no digits to mask).
            message = UserMessage(
                mask_incoming(turn.message), collector, sender,
                input_channel=self.name(), metadata=self.metadata(request),
            )
            try:
                await handle(message)
            except asyncio.CancelledError:  # Rasa's response timeout: answer what was collected
                log.warning("turn cancelled for %s", self.name())
            return response.json(collector.messages)

        return blueprint


class ValidatedRestInput(DoorInput):
    """The public REST door: any well-formed sender, always inside the `web-` namespace."""

    @classmethod
    def name(cls) -> str:
        """Same name (and URL) as Rasa's own REST channel: /webhooks/rest/webhook."""
        return "rest"

    def conversation_id(self, sender: str) -> str:
        """`web-<sender>` (unchanged when it already starts with `web-`)."""
        return web_conversation_id(sender)

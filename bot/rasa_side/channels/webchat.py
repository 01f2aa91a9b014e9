"""The local web chat page, served by the Rasa server itself at /webhooks/webchat/.

No account, no CORS, nothing to build: the page (`webchat_static/`: plain HTML, CSS and JS) posts to
the REST channel on the same server, so `credentials.yml` must list both:

    bot.rasa_side.channels.rest.ValidatedRestInput:
    bot.rasa_side.channels.webchat.WebChatInput:

This channel serves files and the ticket inbox; every typed message goes through the REST channel
(/webhooks/rest/webhook), which keeps it in the page's `web-…` conversation. A picture attached on the page comes
to POST /webhooks/webchat/screen (raw bytes, the conversation in the X-Webchat-Sender header): the action server
reads it (bot/messengers/screen_reader.py), and its text goes to Rasa in that same conversation, marked as a
screenshot; a private picture gets the warning and nothing reaches Rasa. The picture is never stored.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.exceptions import ContentRangeError, InvalidUsage
from sanic.handlers import ContentRangeHandler
from sanic.request import Request

from bot.core.bounded_body import read_bounded
from bot.core.privacy import mask_incoming
from bot.core.settings import Settings
from bot.messengers.screen_reader import (
    MAX_IMAGE_BYTES,
    UNREADABLE,
    AiohttpFetcher,
    Outcome,
    ScreenReader,
    read_lead,
)
from bot.rasa_side.channels.rest import door_metadata, guarded
from bot.rasa_side.channels.static_files import headers_for, resolve
from bot.rasa_side.channels.validation import MAX_MESSAGE_CHARS, Refused, checked_sender, web_conversation_id
from bot.rasa_side.channels.webchat_inbox import SENDER_HEADER, SENDER_IN_URL, read_inbox
from bot.replies.printable import PAGE_HEADERS, guide_page
from bot.speech.tts import audio_path, content_type as audio_type
from bot.team.mode import guide_page_url, hide_codes_from_rasa_warnings

NOT_FOUND = "Không tìm thấy trang này."
AUDIO_NOT_FOUND = "Không tìm thấy bản đọc này. Bạn bấm “🔊 Nghe” lại để tạo bản mới."
# Names are content hashes, so a file never changes: browsers and Zalo may keep it.
AUDIO_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "public, max-age=604800, immutable",
    "Accept-Ranges": "bytes",
}


def serve(name: str) -> response.HTTPResponse:
    """One static file of the page, or a plain 404 for anything that is not one."""
    path = resolve(name)
    if path is None:
        return response.text(NOT_FOUND, status=404)
    return response.raw(path.read_bytes(), headers=headers_for(path))


async def serve_audio(request: Request, name: str, audio_dir: Path) -> response.HTTPResponse:
    """A spoken reply (bot/speech/tts.py) by its hashed name, with byte ranges (iPhones play media only with them)."""
    path = audio_path(audio_dir, name)
    if path is None:
        return response.text(AUDIO_NOT_FOUND, status=404)
    part = None
    if request.headers.get("range"):
        size = path.stat().st_size
        try:
            part = ContentRangeHandler(request, path.stat())
        except (ContentRangeError, InvalidUsage):
            part = None
        if part is None or part.start >= size:
            return response.text("", status=416, headers={"Content-Range": f"bytes */{size}"})
        part.end = min(part.end, size - 1)  # Sanic trusts the asked end; the file may be shorter
        part.size = part.end - part.start + 1
    return await response.file(path, mime_type=audio_type(name), headers=dict(AUDIO_HEADERS), _range=part)


class WebChatInput(InputChannel):
    """Serves the web chat page; the page itself talks to the REST channel."""

    @classmethod
    def name(cls) -> str:
        """Mounted at /webhooks/webchat/."""
        return "webchat"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """GET / (the page, redirecting to the trailing-slash URL its relative links need), GET /<file>, and
        GET /audio/<hash>.ogg|mp3 (spoken replies)."""
        blueprint = Blueprint("webchat_page", __name__)

        @blueprint.route("/", methods=["GET", "HEAD"])
        async def page(request: Request) -> response.HTTPResponse:
            if not request.path.endswith("/"):  # relative, so it also works behind a path prefix
                return response.redirect(request.path.rsplit("/", 1)[-1] + "/", status=308)
            return serve("")

        @blueprint.route("/<name:str>", methods=["GET", "HEAD"])
        async def static(request: Request, name: str) -> response.HTTPResponse:
            return serve(name)

        audio_dir = Settings.from_env().audio_dir

        @blueprint.route("/audio/<name:str>", methods=["GET", "HEAD"])
        async def audio(request: Request, name: str) -> response.HTTPResponse:
            return await serve_audio(request, name, audio_dir)

        guide_settings = Settings.from_env()
        hide_codes_from_rasa_warnings()  # a team member's "/helper CODE" must not reach rasa.log

        # A guide as a printable page for a resident (bot/replies/printable.py); the link comes from helper mode.
        @blueprint.route("/guide/<entry_id:str>", methods=["GET", "HEAD"])
        async def guide(request: Request, entry_id: str) -> response.HTTPResponse:
            public = guide_settings.public_url
            url = guide_page_url(public, entry_id) if public else request.url.split("?", 1)[0]
            status, page = guide_page(guide_settings.index_dir, entry_id, url)
            return response.html(page, status=status, headers=dict(PAGE_HEADERS))

        # Staff replies to this page's ticket (bot/rasa_side/channels/webchat_inbox.py); a thread keeps the event loop
        # free.
        # The conversation id is a bearer secret: only in a header, so it never lands in a proxy's access log.
        @blueprint.route("/inbox", methods=["GET"])
        async def inbox(request: Request) -> response.HTTPResponse:
            if "sender" in request.args:
                return response.json({"error": SENDER_IN_URL}, status=400, headers={"Cache-Control": "no-store"})
            status, body = await asyncio.to_thread(
                read_inbox, guide_settings.store_url, request.headers.get(SENDER_HEADER), request.args.get("after"))
            return response.json(body, status=status, headers={"Cache-Control": "no-store"})

        screens = ScreenReader.from_env(AiohttpFetcher())
        handle = guarded(on_new_message)

        @blueprint.route("/screen", methods=["POST"], stream=True)
        async def screen(request: Request) -> response.HTTPResponse:
            return await read_picture(request, screens, handle)

        return blueprint


async def read_picture(request: Request, screens: ScreenReader | None,
                       handle: Callable[[UserMessage], Awaitable[None]]) -> response.HTTPResponse:
    """One picture from the page: the replies to its text, or the channel's own warning / request to type."""
    try:
        sender = web_conversation_id(checked_sender(request.headers.get(SENDER_HEADER)))
    except Refused as refused:
        return response.json({"error": refused.reason}, status=refused.status)
    data = await read_bounded(request, MAX_IMAGE_BYTES)
    if data is None and request.stream is not None:
        request.stream.request_max_size = 0  # Sanic closes the connection instead of reading on
    reading = UNREADABLE if screens is None or data is None else await screens.read(data)
    del data
    if reading.outcome is not Outcome.TEXT:
        return response.json([{"recipient_id": sender, "text": reading.reply}])
    text = mask_incoming(reading.text)[:MAX_MESSAGE_CHARS]
    collector = CollectingOutputChannel()
    message = UserMessage(text, collector, sender, input_channel="rest",
                          metadata={**door_metadata(request), "screenshot": True})
    with contextlib.suppress(asyncio.CancelledError):  # Rasa's response timeout: answer what was collected
        await handle(message)
    lead = {"recipient_id": sender, "text": read_lead(text)}  # what was read first, so the resident can correct it
    return response.json([lead, *collector.messages])

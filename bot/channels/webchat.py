"""The local web chat page, served by the Rasa server itself at /webhooks/webchat/.

No account, no CORS, nothing to build: the page (`webchat_static/`: plain HTML, CSS and JS) posts to
the REST channel on the same server, so `credentials.yml` must list both:

    bot.channels.rest.ValidatedRestInput:
    bot.channels.webchat.WebChatInput:

This channel only serves files; every message goes through the REST channel (/webhooks/rest/webhook).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from bot.channels.static_files import headers_for, resolve

NOT_FOUND = "Không tìm thấy trang này."


def serve(name: str) -> response.HTTPResponse:
    """One static file of the page, or a plain 404 for anything that is not one."""
    path = resolve(name)
    if path is None:
        return response.text(NOT_FOUND, status=404)
    return response.raw(path.read_bytes(), headers=headers_for(path))


class WebChatInput(InputChannel):
    """Serves the web chat page; the page itself talks to the REST channel."""

    @classmethod
    def name(cls) -> str:
        """Mounted at /webhooks/webchat/."""
        return "webchat"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """GET / (the page, redirecting to the trailing-slash URL its relative links need) and GET /<file>."""
        blueprint = Blueprint("webchat_page", __name__)

        @blueprint.route("/", methods=["GET", "HEAD"])
        async def page(request: Request) -> response.HTTPResponse:
            if not request.path.endswith("/"):  # relative, so it also works behind a path prefix
                return response.redirect(request.path.rsplit("/", 1)[-1] + "/", status=308)
            return serve("")

        @blueprint.route("/<name:str>", methods=["GET", "HEAD"])
        async def static(request: Request, name: str) -> response.HTTPResponse:
            return serve(name)

        return blueprint

"""Rasa's REST channel with the request body checked first: bad input gets a clear 400, never a 500.

Named `rest`, so the URL stays /webhooks/rest/webhook; `credentials.yml` selects it by module path.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

from bot.channels.validation import rest_body_problem


class ValidatedRestInput(RestInput):
    """REST input that rejects malformed bodies before they reach Rasa's handler."""

    @classmethod
    def name(cls) -> str:
        """Same name (and URL) as Rasa's own REST channel."""
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's REST routes plus a request check on the webhook."""
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def check_body(request: Request) -> response.HTTPResponse | None:
            if request.method == "POST" and request.path.endswith("/webhook"):
                problem = rest_body_problem(request.body or b"")
                if problem:
                    return response.json({"error": problem}, status=400)
            return None

        return blueprint

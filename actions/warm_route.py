"""The action server's POST /search/warm: {"text": ...} in, 204 out, after the question path has searched the text,
so that the vectors of its words are in the query cache when Rasa calls the action a moment later
(bot/rasa_side/prefetch_sender.py sends each typed message here as soon as Rasa reads it).

It runs the same search the question action runs (`question_reply`), in the event loop like the actions: a call that
arrives meanwhile waits for it and then finds every vector cached, rather than embedding the same words a second time
beside it. The reply itself is thrown away; nothing is logged or stored. Behind the action server's token check,
like every route but /health. Bad bodies get 400, long ones 413.
"""

from __future__ import annotations

import json
import logging

from sanic import Sanic, response
from sanic.request import Request

from actions import services
from actions.questions import question_reply
from bot.core.bounded_body import read_bounded

log = logging.getLogger(__name__)
ROUTE = "/search/warm"
MAX_BYTES = 16_384  # 2,000 characters of Vietnamese in UTF-8 with room; the sender sends no more
MAX_CHARS = 2_000


async def handle(request: Request) -> response.HTTPResponse:
    """Search the text as the question action would; 204 when done."""
    body = await read_bounded(request, MAX_BYTES)
    if body is None:
        return response.json({"error": "body too large"}, status=413)
    try:
        text = json.loads(body or b"null").get("text")
    except (ValueError, AttributeError):
        text = None
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_CHARS:
        return response.json({"error": 'expected {"text": "<at most 2000 characters>"}'}, status=400)
    try:
        question_reply(text, services.search_service(), intent="")
    except Exception as error:  # a head start lost; the action will search (and report) on its own
        log.warning("search warm-up failed: %s", type(error).__name__)
    return response.empty(status=204)


def add_warm_route(app: Sanic) -> None:
    """Mount POST /search/warm on the action server's app."""
    app.add_route(handle, ROUTE, methods=["POST"], stream=True, name="search_warm")

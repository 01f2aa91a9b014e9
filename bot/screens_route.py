"""The action server's POST /screens/read: a screenshot's bytes in, {"text", "sensitive"} out.

OCR needs pytesseract and tesseract, which only the action server's environment has; the Rasa-side channels and the
Telegram relay post the picture here (bot/messengers/screen_reader.py). Mounted by bot/action_server.py, behind its
token check like every route but /health. `read_screen` puts bot/screens' pieces together for one picture: OCR,
the sensitivity check on the raw text, then masking (bot.core.privacy.mask, as typed text is); a sensitive screen's
text does not leave at all. The body is streamed and refused past MAX_BYTES (413) before it is all read; bad
pictures get 422 with the refusal kind, OCR that fails 503, OCR past the deadline 504. OCR runs in a worker thread,
so the event loop keeps serving Rasa's action calls. Nothing is written or logged but sizes, kinds and times.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from sanic import Sanic, response
from sanic.request import Request

from bot.core.bounded_body import read_bounded
from bot.core.privacy import mask
from bot.screens.ocr import MAX_BYTES, TIMEOUT_SECONDS, OcrFailed, ScreenImageError, read_text
from bot.screens.sensitive import sensitive_kind

log = logging.getLogger(__name__)
ROUTE = "/screens/read"
DEADLINE_S = TIMEOUT_SECONDS + 5.0  # tesseract is killed at TIMEOUT_SECONDS; this bounds the decoding around it
MAX_AT_ONCE = 2  # two cores: more pictures at once would only queue inside tesseract and starve the actions
_slots: asyncio.Semaphore | None = None


@dataclass(frozen=True)
class ScreenReading:
    """What the channel may know: masked text, or the kind of private thing shown (and no text)."""

    text: str
    sensitive: str | None

    def as_json(self) -> dict[str, str | None]:
        """The route's answer: {"text": ..., "sensitive": kind or null}."""
        return {"text": self.text, "sensitive": self.sensitive}


def read_screen(data: bytes, timeout: float = TIMEOUT_SECONDS) -> ScreenReading:
    """OCR, then the sensitivity check on the raw text, then masking. Raises ocr's ScreenImageError / OcrFailed."""
    raw = read_text(data, timeout=timeout)
    kind = sensitive_kind(raw)
    if kind is not None:
        return ScreenReading("", kind.value)
    return ScreenReading(" ".join(mask(raw).split()), None)


async def handle(request: Request) -> response.HTTPResponse:
    """One picture read; see the module docstring for the statuses."""
    global _slots
    data = await read_bounded(request, MAX_BYTES)
    if data is None:
        if request.stream is not None:
            request.stream.request_max_size = 0  # Sanic closes the connection instead of reading on
        return response.json({"error": "too_large"}, status=413)
    if _slots is None:
        _slots = asyncio.Semaphore(MAX_AT_ONCE)
    started = time.monotonic()
    try:
        async with _slots:
            reading = await asyncio.wait_for(asyncio.to_thread(read_screen, data), DEADLINE_S)
    except ScreenImageError as err:
        log.info("screenshot refused: %s (%d bytes)", err.kind, len(data))
        return response.json({"error": err.kind}, status=413 if err.kind == "too_large" else 422)
    except OcrFailed as err:
        log.warning("screenshot not read: %s", err)
        return response.json({"error": "ocr_failed"}, status=503)
    except asyncio.TimeoutError:
        log.warning("screenshot not read within %.0f s", DEADLINE_S)
        return response.json({"error": "timeout"}, status=504)
    finally:
        del data  # the picture is not kept past the call
    log.info("screenshot read: %d chars, sensitive=%s, %.2f s", len(reading.text), reading.sensitive,
             time.monotonic() - started)
    return response.json(reading.as_json())


def add_screen_route(app: Sanic) -> None:
    """Mount POST /screens/read on the action server's app."""
    app.add_route(handle, ROUTE, methods=["POST"], stream=True, name="screens_read")

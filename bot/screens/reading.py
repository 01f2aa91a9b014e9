"""One screenshot read for a channel: its text, masked, or the private thing it shows (then no text at all).

The action server's POST /screens/read (bot/action_server.py) calls `read_screen` in a worker thread; the channels
(bot/messengers/screen_reader.py) only ever receive this result, never run OCR themselves. Nothing is kept: the
bytes are the caller's, the text leaves masked (bot.core.privacy.mask, as typed text is), and a sensitive screen's
text does not leave at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.privacy import mask
from bot.screens.ocr import TIMEOUT_SECONDS, read_text
from bot.screens.sensitive import sensitive_kind


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

"""Putting it together: `mask` and `mask_incoming` (helper codes and passwords first, then e-mail, plates, passports
and code words, then the digit runs between them), and the logging filter that masks every log line.
Standard library only (see bot/core/privacy/__init__.py).
"""

from __future__ import annotations

import logging
import re
import unicodedata

from bot.core.privacy.codes import (
    _CHUNK,
    _EMAIL,
    _PASSPORT,
    _PLATE,
    _helper_code_spans,
    _is_code_chunk,
    _mask_chunk,
    _password_spans,
)
from bot.core.privacy.cues import _plain
from bot.core.privacy.digit_runs import _RUN, _classify, _numbers
from bot.core.privacy.placeholders import EMAIL, HELPER_CODE, PASSPORT, PASSWORD, PLATE

_TOKEN = re.compile(
    rf"(?P<email>{_EMAIL.pattern})"
    rf"|(?P<plate>{_PLATE.pattern})"
    rf"|(?P<passport>{_PASSPORT.pattern})"
    rf"|(?P<chunk>{_CHUNK.pattern})"
)


def _mask(text: str, helper_codes: bool) -> str:
    """Helper codes and passwords first (they are found by the words before them), then everything else."""
    text = unicodedata.normalize("NFC", text)
    plain = _plain(text)
    fixed: list[tuple[int, int, str]] = []  # spans replaced by a placeholder (helper codes, passwords)
    if helper_codes:
        fixed += [(a, b, HELPER_CODE) for a, b in _helper_code_spans(text, plain)]
    fixed += [(a, b, PASSWORD) for a, b in _password_spans(text, plain)]
    out: list[str] = []
    pos = 0
    for a, b, placeholder in _merge(fixed):
        out.append(_mask_span(text, plain, pos, a))
        out.append(placeholder)
        pos = b
    out.append(_mask_span(text, plain, pos, len(text)))
    return "".join(out)


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    merged: list[tuple[int, int, str]] = []
    for a, b, p in sorted(spans):
        if merged and a < merged[-1][1]:
            continue
        merged.append((a, b, p))
    return merged


def _mask_span(text: str, plain: str, start: int, end: int) -> str:
    """Mask one stretch of text (between fixed spans): e-mail, plates, passports, code words, then digit runs."""
    out: list[str] = []
    pos = start
    for m in _TOKEN.finditer(text, start, end):
        if m.lastgroup == "chunk":
            chunk = m.group()
            if not _is_code_chunk(chunk):
                continue
            replacement = _mask_chunk(chunk, plain[m.start():m.end()])
        else:
            replacement = {"email": EMAIL, "plate": PLATE, "passport": PASSPORT}[m.lastgroup or ""]
        out.append(_mask_runs(text, plain, pos, m.start()))
        out.append(replacement)
        pos = m.end()
    out.append(_mask_runs(text, plain, pos, end))
    return "".join(out)


def _mask_runs(text: str, plain: str, start: int, end: int) -> str:
    runs = _numbers(text, list(_RUN.finditer(text, start, end)))
    out: list[str] = []
    pos = start
    for a, b, prefix in runs:
        placeholder = _classify(text[a:b], prefix, text, plain, a, b)
        if placeholder is None:
            continue
        out += [text[pos:a], placeholder]
        pos = b
    out.append(text[pos:end])
    return "".join(out)


def mask(text: str) -> str:
    """Replace personal data with placeholders: for everything logged, stored or shown to staff and teams."""
    return _mask(text, helper_codes=True)


def mask_incoming(text: str) -> str:
    """What the channels pass to Rasa: `mask`, except a helper's team code, which the helper action must read to
    turn helper mode on (bot/team/mode.py). Tickets, team notices, the question log and logs use `mask`."""
    return _mask(text, helper_codes=False)


class MaskingFilter(logging.Filter):
    """A logging filter that masks personal data in every record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, mask it, and drop the arguments."""
        record.msg = mask(record.getMessage())
        record.args = None
        return True


def install_log_masking() -> None:
    """Attach the masking filter to every handler of the root logger."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(MaskingFilter())

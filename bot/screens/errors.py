"""Which knowledge entry's app message a screenshot's text shows.

OCR of a phone screen is noisy: diacritics come out wrong or missing ("Hệ thông đang bảo tri"), letters swap
("rn" for "m"), lines break inside a message and the screen carries a status bar, a header and buttons around it.
So both sides are compared as plain syllables (bot.core.text.plain: no diacritics, lower case, single spaces,
punctuation dropped) and each recorded message is looked for *inside* the text with a partial ratio: the
best-aligned stretch of the text of the message's length, scored 0-100 by edit similarity. rapidfuzz computes it
when installed; otherwise difflib does the same alignment (fuzzywuzzy's partial_ratio), slower but fine for a
screen of text.

Short messages can appear by chance inside unrelated text, so they need a closer match than long ones, and the
shortest are not used at all; when two messages match, the longer (more specific) one wins.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType

from bot.core.text import plain
from bot.knowledge.model import Entry

_rapidfuzz: ModuleType | None
try:  # optional: same scores, about a hundred times faster
    from rapidfuzz import fuzz as _rapidfuzz
except ImportError:  # pragma: no cover - the difflib path is tested by passing it as the scorer
    _rapidfuzz = None

_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)
MIN_SCORE = 86.0  # for a message of LONG_MESSAGE characters or more (plain form)
MIN_SCORE_SHORT = 93.0  # for shorter messages, which occur by chance more easily
LONG_MESSAGE = 24
TIE_MARGIN = 3.0  # messages scoring within this of the best count as equally present: the longest one wins
# Plain messages shorter than this are too generic to recognise a screen by: "Tài khoản bị khóa" (17) is also what a
# scam SMS says ("tài khoản bị khóa vì chưa sinh trắc"); they stay in the entry for people, the matcher skips them.
MIN_MESSAGE = 18


@dataclass(frozen=True)
class ErrorMatch:
    """The entry a screenshot's text points to, the recorded message found and how closely (0-100)."""

    entry_id: str
    message: str
    score: float


def normalise(text: str) -> str:
    """Plain syllables only: 'Lỗi: Mã OTP\\nkhông đúng!' -> 'loi ma otp khong dung'."""
    return plain(_NOT_WORD.sub(" ", text.replace("_", " ")))


def difflib_partial_ratio(short: str, long: str) -> float:
    """Best similarity (0-100) of `short` against any stretch of `long` of its length, aligned on matching blocks."""
    if not short or not long:
        return 0.0
    if len(short) > len(long):
        short, long = long, short
    best = 0.0
    for block in difflib.SequenceMatcher(None, short, long, autojunk=False).get_matching_blocks():
        start = max(0, block.b - block.a)
        window = long[start : start + len(short)]
        best = max(best, difflib.SequenceMatcher(None, short, window, autojunk=False).ratio() * 100)
        if best == 100.0:
            break
    return best


def default_scorer() -> Callable[[str, str], float]:
    """rapidfuzz's partial_ratio when installed, else the difflib one."""
    if _rapidfuzz is not None:
        return lambda short, long: float(_rapidfuzz.partial_ratio(short, long))
    return difflib_partial_ratio


class ErrorMatcher:
    """All entries' recorded app messages, ready to be looked for in OCR text."""

    def __init__(self, entries: Iterable[Entry], scorer: Callable[[str, str], float] | None = None) -> None:
        self.scorer = scorer or default_scorer()
        self.messages: list[tuple[str, str, str]] = []  # (plain message, entry id, message as recorded)
        for entry in entries:
            for message in entry.errors:
                key = normalise(message)
                if len(key) >= MIN_MESSAGE:
                    self.messages.append((key, entry.id, message))

    def match(self, text: str) -> ErrorMatch | None:
        """The best entry for a screenshot's text, or None when no recorded message is (nearly) on it."""
        page = normalise(text)
        if not page:
            return None
        found: list[tuple[float, int, ErrorMatch]] = []
        for key, entry_id, message in self.messages:
            score = self.scorer(key, page)
            if len(page) < len(key):  # the text is only a piece of the message: scale by how much of it
                score *= len(page) / len(key)
            if score >= (MIN_SCORE if len(key) >= LONG_MESSAGE else MIN_SCORE_SHORT):
                found.append((score, len(key), ErrorMatch(entry_id, message, round(score, 1))))
        if not found:
            return None
        top = max(score for score, _, _ in found)
        close = [f for f in found if f[0] >= top - TIE_MARGIN]
        return max(close, key=lambda f: (f[1], f[0]))[2]

"""An answer as it should be heard: the written reply turned into plain sentences a Vietnamese voice reads well.

Pure text rules (no audio here; `bot/speech/tts.py` synthesises): web addresses are not spelled out but pointed to
("trang web ghi trong tin nhắn"), numbered steps become "Bước 1. …", dates and document numbers are said the
way people say them, hotlines digit by digit, abbreviations in full, and emoji, markdown and arrows dropped.
"""

from __future__ import annotations

import re
import unicodedata

URL_SPOKEN = "trang web ghi trong tin nhắn"
CUT_NOTE = "Phần còn lại, bạn xem trong tin nhắn."
MAX_SPOKEN_CHARS = 1500  # answers are at most ~800 characters; this bounds synthesis time and audio length

# Abbreviations said in full (or spelled the Vietnamese way) so the voice does not guess an English reading.
SPOKEN_WORDS: dict[str, str] = {
    "VNeID": "vê en e ai đi",
    "VssID": "vê ét ét ai đi",
    "BHYT": "bảo hiểm y tế",
    "BHXH": "bảo hiểm xã hội",
    "CCCD": "căn cước công dân",
    "CMND": "chứng minh nhân dân",
    "UBND": "ủy ban nhân dân",
    "HĐĐT": "hóa đơn điện tử",
    "CNTT": "công nghệ thông tin",
    "KCB": "khám chữa bệnh",
    "OTP": "ô tê pê",
    "QR": "cu a",
    "NFC": "en ép xê",
    "APK": "a pê ca",
    "PDF": "pê đê ép",
    "SMS": "ét em ét",
}

_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'“”]+"
    r"|(?<![\w@/.-])(?:[a-z0-9-]+\.)+(?:gov\.vn|com\.vn|vn|com|net|org)(?:/[^\s<>\"'“”]*)?(?![\w@])",
    re.IGNORECASE,
)
_URL_TAIL = re.compile(r"[.,;:!?)\]»”’\"']+$")
_DATE = re.compile(r"(?<![\d/])(ngày\s+)?(\d{1,2})/(\d{1,2})/((?:19|20)\d\d)(?![\d/])", re.IGNORECASE)
_DOC_NUMBER = re.compile(r"(?<![\d/])(\d{1,4})/((?:19|20)\d\d)/[A-ZĐa-zđ]+(?:-[A-ZĐa-zđ]+)*")
_PHONE = re.compile(r"(?<![\d.,])\d{3,4}(?:[ .]\d{3,4}){1,3}(?![\d])|(?<![\d.,])\d{7,}(?![\d])")
_STEP = re.compile(r"^\s*(\d{1,2})[.)]\s+(?!Bước\b)", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*•+]|#{1,6}|>)\s*")
_MARKUP = re.compile(r"[*_`~#|<>\[\]{}]")
_QUOTES = re.compile(r"[“”\"«»„‟]")
_SLASH_WORDS = re.compile(r"(?<=[^\W\d_])\s*/\s*(?=[^\W\d_])")
_SPOKEN = re.compile(r"(?<![\w])(" + "|".join(map(re.escape, SPOKEN_WORDS)) + r")(?![\w])")
_SPACES = re.compile(r"[ \t\u00a0]+")
_SENTENCE_END = re.compile(r"[.!?:;…]$")


def _is_dropped_char(ch: str) -> bool:
    """Emoji, pictographs and other symbols the voice cannot say, plus joiners and variation selectors."""
    if ch in "\u200d\u200c\ufe0e\ufe0f\u20e3":
        return True
    category = unicodedata.category(ch)
    return category in ("So", "Sk", "Cs", "Co", "Cn") or (category == "Cf" and ch != "\u00ad")


def _url(match: re.Match[str]) -> str:
    """A web address becomes a pointer to the written message; punctuation after it stays with the sentence."""
    tail = _URL_TAIL.search(match.group(0))
    return URL_SPOKEN + (tail.group(0) if tail else "")


def _date(match: re.Match[str]) -> str:
    day, month, year = int(match.group(2)), int(match.group(3)), match.group(4)
    return f"ngày {day} tháng {month} năm {year}"


def _phone(match: re.Match[str]) -> str:
    """A hotline digit by digit, groups separated by a short pause: "1900 0368" -> "1 9 0 0, 0 3 6 8"."""
    groups = re.split(r"[ .]", match.group(0))
    return ", ".join(" ".join(group) for group in groups)


def _line(line: str) -> str:
    """One written line as one spoken sentence."""
    line = _BULLET.sub("", line)
    line = _STEP.sub(lambda m: f"Bước {int(m.group(1))}. ", line)
    line = _MARKUP.sub(" ", line)
    line = _SPACES.sub(" ", line).strip(" ,")
    if line and not _SENTENCE_END.search(line):
        line += "."
    return line


def _bounded(text: str, limit: int) -> str:
    """At most `limit` characters, cut after a whole sentence, with a note that the rest is in the message."""
    if len(text) <= limit:
        return text
    room = limit - len(CUT_NOTE) - 1
    cut = max(text.rfind(end, 0, room) for end in (". ", "? ", "! ", ": "))
    head = text[: cut + 1] if cut > 0 else text[:room].rsplit(" ", 1)[0]
    return f"{head} {CUT_NOTE}"


def speakable(text: str, limit: int = MAX_SPOKEN_CHARS) -> str:
    """The text a voice should read for a written reply; empty when nothing in it can be said."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if not _is_dropped_char(ch))
    text = _URL.sub(_url, text)
    text = _DATE.sub(_date, text)
    text = _DOC_NUMBER.sub(lambda m: f"số {int(m.group(1))} năm {m.group(2)}", text)
    text = _PHONE.sub(_phone, text)
    text = text.replace("→", ", rồi ").replace("–", ", ").replace("—", ", ").replace("…", " ").replace("...", " ")
    text = _QUOTES.sub("", text)
    text = _SLASH_WORDS.sub(" hoặc ", text)
    text = text.replace("()", "")
    text = _SPOKEN.sub(lambda m: SPOKEN_WORDS[m.group(1)], text)
    sentences = [_line(line) for line in text.splitlines()]
    spoken = " ".join(s for s in sentences if any(ch.isalnum() for ch in s))
    spoken = re.sub(r"\s+([,.;:!?])", r"\1", spoken)
    spoken = re.sub(r",\s*(?=[,.;:!?])", "", spoken)
    spoken = re.sub(r"\.{2,}", ".", spoken)
    return _bounded(spoken, limit)

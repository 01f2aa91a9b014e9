"""Words and codes that hold digits, and secrets found by the words before them.

E-mail addresses, vehicle plates and passports are masked whole; a word with letters and digits (a dossier code
"H26-240101-0001", a legal reference "70/2025/NĐ-CP") stays, except a cue glued to its number ("sdt0912345678") and
any run of 9+ digits inside it. Helper codes (after "tổ công nghệ", "/helper", or configured in BOT_HELPER_CODES)
and passwords typed after their word ("mật khẩu ... Lan@1955") are found as spans for masking.py to replace.
Standard library only (see bot/core/privacy/__init__.py).
"""

from __future__ import annotations

import os
import re

from bot.core.privacy.cues import _CLAUSE_END, _CURRENCY, _LOOK, _UNITS, _Context, _plain
from bot.core.privacy.digit_runs import _SEP, _classify, _groups, _kind_of_long
from bot.core.privacy.placeholders import CODE

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Vehicle plates: 29A-123.45, 29-B1 234.56, 51G12345, 30K 678.90, 59X1-123.45
_PLATE = re.compile(
    r"(?<![\w./-])(?:\d{2}[ -]?[A-Z]{1,2}\d?[ -]?(?:\d{3}\.\d{2}|\d{4,5})|\d{2}[a-z]\d?\d{4,5})(?![\w/]|[.,-]\d)"
)
_PASSPORT = re.compile(r"(?<![\w./-])[A-Za-z]\d{7}(?![\w/]|[.,-]\d)")
# A word with letters and digits: a code ("H26", "1C25TAA", "KM482"), a legal reference ("70/2025/NĐ-CP"), a
# glued amount ("150.000đ") or a cue glued to its number ("sdt0912345678").
_CHUNK = re.compile(r"(?<![\w@])[^\W_]+(?:[./-][^\W_]+)*")
_GLUED_CUES = {"sdt", "dt", "cccd", "cmnd", "cmt", "otp", "mk", "pin", "stk", "tk", "mst", "so", "ma", "pass",
               "code", "id", "zalo", "tel"}
_LONG_DIGITS = re.compile(r"\d{9,}")


def _mixed(part: str) -> bool:
    return any(c.isdigit() for c in part) and any(c.isalpha() for c in part)


def _is_code_chunk(chunk: str) -> bool:
    """Letters and digits in one part ("H26-240101-0001"), a slash reference with letters ("70/2025/NĐ-CP"), or words
    and numbers joined by dashes ("muc-huong-80-100", "TCN-5739"). Not "xong.482913": a missing space, not a code."""
    parts = re.split(r"[./-]", chunk)
    if any(_mixed(p) for p in parts) or ("/" in chunk and any(p.isalpha() for p in parts)):
        return True
    return bool(re.search(r"[^\W\d_]-\d|\d-[^\W\d_]", chunk))


def _mask_chunk(chunk: str, plain_chunk: str) -> str:
    """A code word: kept, except a cue glued to its number and any run of 9+ digits inside it."""
    lead = re.match(r"[^\W\d_]+", plain_chunk)
    if lead and lead.group() in _GLUED_CUES:
        rest = chunk[lead.end():]
        if re.fullmatch(rf"[:.=-]?\d+(?:{_SEP}\d+)*", rest) and len("".join(_groups(rest))) >= 4:
            cue_text = plain_chunk[: lead.end()] + " "
            digits = rest.lstrip(":.=-")
            synthetic = cue_text + digits
            placeholder = _classify(digits, "", synthetic, synthetic, len(cue_text), len(synthetic))
            if placeholder:
                return chunk[: len(chunk) - len(digits)] + placeholder
            return chunk
    trailing = re.fullmatch(r"(\d{4,8})([^\W\d_]+)", chunk)
    if trailing and _plain(trailing.group(2)) not in _CURRENCY | _UNITS | {"h"}:
        return CODE + trailing.group(2)  # "482913la": a number glued to the next word
    return _LONG_DIGITS.sub(lambda m: _kind_of_long(m.group(), None, False, _Context([], [], "")) or m.group(), chunk)


# --- helper codes and passwords typed in words -----------------------------------------------------------------------
_HELPER_CUE = re.compile(r"(?:^|(?<=\s))/?helper\b|\bto cong nghe\b|\bto cns\b|\btcns\b|\bho tro vien\b|\bto cntt\b")
_HELPER_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,31}")
_PASSWORD_CUE = re.compile(r"\b(?:mat khau|mk|pass|password|pw)\b")


def _token_spans(text: str, start: int, limit: int) -> list[tuple[int, int]]:
    spans = []
    for m in re.finditer(r"\S+", text[start:start + 400]):
        raw = m.group()
        left = len(raw) - len(raw.lstrip("\"'“”‘’(:"))
        right = len(raw.rstrip("\"'“”‘’).,:;!?"))
        if right > left:
            spans.append((start + m.start() + left, start + m.start() + right))
        if len(spans) >= limit:
            break
    return spans


def _looks_like_a_helper_code(token: str) -> bool:
    """Letters with digits ("TCN5739", "EU5ADKPUXUHV"), or a long run of capitals (a generated code without digits)."""
    if not _HELPER_TOKEN.fullmatch(token):
        return False
    has_digit, has_letter = any(c.isdigit() for c in token), any(c.isalpha() for c in token)
    return (has_digit and has_letter) or (token.isupper() and token.isalpha() and len(token) >= 8)


def _helper_code_spans(text: str, plain: str) -> list[tuple[int, int]]:
    """The code after "mã tổ công nghệ số", "tcns"... (the first word that looks like one), the word right after
    "/helper", and every configured code (BOT_HELPER_CODES) wherever it appears."""
    spans = []
    for cue in _HELPER_CUE.finditer(plain):
        tokens = _token_spans(text, cue.end(), 8)
        if plain[cue.start()] == "/" and tokens and _HELPER_TOKEN.fullmatch(text[slice(*tokens[0])]):
            spans.append(tokens[0])  # "/helper CODE": whatever follows is a code
            continue
        for a, b in tokens:
            if _looks_like_a_helper_code(text[a:b]):
                spans.append((a, b))
                break
    for code in _configured_helper_codes():
        for m in re.finditer(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text, re.IGNORECASE):
            spans.append((m.start(), m.end()))
    return spans


def _configured_helper_codes() -> list[str]:
    return [c.strip() for c in os.environ.get("BOT_HELPER_CODES", "").split(",") if len(c.strip()) >= 4]


def _password_spans(text: str, plain: str) -> list[tuple[int, int]]:
    """A password typed after its word ("mật khẩu của tôi là Lan@1955"): letters with digits or symbols."""
    spans = []
    for cue in _PASSWORD_CUE.finditer(plain):
        if plain[cue.start() - 1:cue.start()] == "[":
            continue  # the placeholder itself: "[mật khẩu]"
        clause_end = _CLAUSE_END.search(plain, cue.end(), cue.end() + _LOOK)
        stop = clause_end.start() if clause_end else len(text)
        for a, b in _token_spans(text, cue.end(), 5):
            if a >= stop:
                break
            token = text[a:b]
            if (len(token) >= 4 and any(c.isalpha() for c in token)
                    and any(c.isdigit() or not c.isalnum() for c in token) and not {"[", "]"} & set(token)):
                spans.append((a, b))
                break
    return spans

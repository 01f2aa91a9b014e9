"""Helper mode for members of the community digital-technology team (Tổ công nghệ số cộng đồng).

A member types their team code ("/helper MA123", "mã tổ công nghệ MA123"); codes come from the
BOT_HELPER_CODES setting and are never logged or stored in a slot. In helper mode an answer gets a
second message with the entry's notes for helpers and a link to a printable page for the resident.
"""

from __future__ import annotations

import hmac
import math
import re
import secrets
import warnings
from dataclasses import dataclass
from urllib.parse import quote

from bot.core.limits import Limiter, Rule
from bot.core.text import deaccent
from bot.knowledge.model import Entry

NOTES_HEADING = "Ghi chú cho tổ công nghệ số:"
PRINT_LABEL = "In hướng dẫn cho người dân"
GUIDE_PAGE_PATH = "/webhooks/webchat/guide/"
# Words that make up the ways of saying "my team code is": whatever is left is the code.
_LOGIN_WORDS = {
    "ma", "so", "to", "cong", "nghe", "cns", "tcns", "dong", "cua", "toi", "la", "minh", "em", "thanh", "vien",
    "ho", "tro", "helper", "dang", "nhap", "vao", "che", "do", "bat", "nhom",
}
_TEAM = re.compile(r"\b(to cong nghe|to cns|tcns|ho tro vien)\b")
_LOGIN_CUE = re.compile(r"\b(ma|che do|dang nhap)\b")
_LOGOUT = re.compile(
    r"^/?helper[ _]?(off|logout|thoat)$"
    r"|^(thoat|tat|ket thuc|roi|dung)( khoi)? (che do )?(to cong nghe( so)?|to cns|tcns|ho tro vien|helper)$"
)
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,31}")
_QUESTION = {"gi", "nao", "dau", "sao", "khong", "ko", "k"}  # "mã tổ công nghệ số là gì?" asks, it does not log in


@dataclass(frozen=True)
class LoginAttempt:
    """A message that tries to enter helper mode, and the code it carries (None: no code given)."""

    code: str | None
    masked: bool = False  # the channel took the code for a personal number ("TCN-5739" -> "TCN-[mã số]")


def _plain_tokens(text: str) -> list[str]:
    return deaccent(text).lower().replace(":", " ").split()


def login_attempt(text: str) -> LoginAttempt | None:
    """Read "/helper MA123" or "mã tổ công nghệ số: MA123"; None when the message is not a login."""
    lows = _plain_tokens(text)
    plain = " ".join(lows)
    slash = bool(lows) and lows[0] in ("/helper", "helper")
    if not (slash or (_TEAM.search(plain) and _LOGIN_CUE.search(plain))) or is_logout(text):
        return None
    if any(low.strip("?") in _QUESTION for low in lows) or text.strip().endswith("?"):
        return None  # "mã tổ công nghệ số là gì?" asks about the team
    if "[" in text and "]" in text:  # bot.core.privacy placeholders: the code held a separate run of digits
        return LoginAttempt(None, masked=True)
    raw = text.replace(":", " ").split()
    # not strict: de-accenting may drop a token made of combining marks only, as before
    pairs = zip(raw, lows, strict=False)
    rest = [tok.strip(".,!") for tok, low in pairs if low.strip(".,!").lstrip("/") not in _LOGIN_WORDS]
    rest = [tok for tok in rest if tok]
    if len(rest) == 1 and _CODE.fullmatch(rest[0]):
        return LoginAttempt(rest[0])
    if slash or not rest:
        return LoginAttempt(None)  # "/helper" or "bật chế độ tổ công nghệ số": ask for the code
    return None  # a sentence about the team, not a login


def is_logout(text: str) -> bool:
    """True for "/helper_off", "thoát chế độ tổ công nghệ số" and the like."""
    return bool(_LOGOUT.match(" ".join(_plain_tokens(text))))


def hide_codes_from_rasa_warnings() -> None:
    """Rasa reads "/helper MA123" as an unknown intent "helper MA123" and logs a warning quoting the whole
    line, code included; drop that one warning (the message still reaches the actions as text)."""
    warnings.filterwarnings("ignore", message=r"Failed to parse arguments in line '/\s*helper", category=UserWarning)


def is_valid_code(code: str | None, codes: tuple[str, ...]) -> bool:
    """The code is one of the configured ones (case ignored; compared in constant time, every code checked)."""
    if not code:
        return False
    given = code.strip().upper().encode()
    found = False
    for allowed in codes:
        found |= hmac.compare_digest(given, allowed.strip().upper().encode())
    return found


# Guessing codes: every try is counted before the code is checked, a right code gives its count back. A sender gets
# 5 wrong codes an hour; a client address (where the door knows it: web chat, REST) 20, for the web page mints a
# new sender id per visit. The address limit is looser: a commune office shares one address.
WRONG_CODES_PER_SENDER = Rule("helper-code-sender", 5, 3600)
WRONG_CODES_PER_ADDRESS = Rule("helper-code-address", 20, 3600)

# New codes (`python -m bot.admin helper-code new`): 12 symbols from 23 that nobody confuses when reading or typing
# (15 letters, 8 digits; no I/1, O/0, B/8, S/5, G/6, Z/2), never 3 digits in a row, so bot.core.privacy never takes a
# code for an OTP or a phone number. 53.8 bits: at 100 guesses a second from everywhere at once, with 50 codes
# configured, finding one takes ~90,000 years on average.
CODE_LETTERS = "ACDEHKMNPRTUVXY"
CODE_DIGITS = "23456789"
NEW_CODE_LENGTH = 12
MIN_CODE_BITS = 50.0  # what `helper-code check` asks of a configured code, by the estimate in code_bits
_RUN_OF_DIGITS = re.compile(r"\d{3}")


def new_code() -> str:
    """A fresh random helper code, e.g. "KM4XTAP7RD2H" (see NEW_CODE_LENGTH)."""
    alphabet = CODE_LETTERS + CODE_DIGITS
    while True:
        code = "".join(secrets.choice(alphabet) for _ in range(NEW_CODE_LENGTH))
        if not _RUN_OF_DIGITS.search(code) and code_bits(code) >= MIN_CODE_BITS:  # the second drops ~1 in 10^7
            return code


def new_code_bits(length: int = NEW_CODE_LENGTH) -> float:
    """The entropy of new_code() exactly: log2 of how many strings of that length have no 3 digits in a row."""
    ends = [1, 0, 0]  # strings ending in 0, 1, 2 digits
    for _ in range(length):
        ends = [sum(ends) * len(CODE_LETTERS), ends[0] * len(CODE_DIGITS), ends[1] * len(CODE_DIGITS)]
    return math.log2(sum(ends))


def code_bits(code: str) -> float:
    """An upper estimate of a hand-made code's strength: length times log2 of the alphabet its kinds of characters
    span (case is ignored: 26 letters, 10 digits, '-' and '_'); a code of 3 distinct characters or fewer counts 0."""
    code = code.strip().upper()
    if len(set(code)) < 4:
        return 0.0
    alphabet = 26 * any(c.isalpha() for c in code) + 10 * any(c.isdigit() for c in code)
    alphabet += 2 * any(c in "-_" for c in code)
    return len(code) * math.log2(alphabet) if alphabet > 1 else 0.0


def weak_codes(codes: tuple[str, ...]) -> list[int]:
    """Positions (1-based) of configured codes below MIN_CODE_BITS: the codes themselves are never printed."""
    return [n for n, code in enumerate(codes, 1) if code_bits(code) < MIN_CODE_BITS]


def guide_page_url(public_url: str, entry_id: str) -> str:
    """The printable page of an entry's guide, served by the web chat channel."""
    return public_url.rstrip("/") + GUIDE_PAGE_PATH + quote(entry_id, safe="")


def notes_message(entry: Entry, public_url: str) -> str | None:
    """The second message a helper sees under an answer: notes for helpers and the printable link."""
    lines: list[str] = []
    if entry.helper_notes:
        lines.append(NOTES_HEADING)
        lines += [f"- {note.strip()}" for note in entry.helper_notes]
    if entry.steps:
        lines.append(f"{PRINT_LABEL}: {guide_page_url(public_url, entry.id)}")
    return "\n".join(lines) or None


WELCOME = (
    "Chào bạn, đã bật chế độ Tổ công nghệ số. Từ giờ, dưới mỗi câu trả lời sẽ có ghi chú cho tổ "
    "(cần kiểm tra gì trên máy người dân, giấy tờ cần mang, lỗi hay gặp) và đường link in hướng dẫn "
    "cho người dân. Gõ “in hướng dẫn” để lấy link in của mục vừa xem. Gõ “thoát chế độ tổ công nghệ” để tắt."
)
WRONG_CODE = "Mã tổ công nghệ số chưa đúng. Bạn kiểm tra lại mã do xã/phường cấp, rồi gõ lại: /helper MÃ-CỦA-TỔ"
ASK_CODE = "Bạn gõ mã tổ công nghệ số do xã/phường cấp, ví dụ: /helper MÃ-CỦA-TỔ"
MASKED_CODE = (
    "Mã này bị hệ thống che đi vì giống một dãy số cá nhân. Mã tổ nên là chữ và số viết liền (ví dụ TCN5739); "
    "bạn hỏi cán bộ xã/phường phụ trách để được cấp mã đúng dạng."
)
NOT_CONFIGURED = "Chế độ Tổ công nghệ số chưa được bật ở hệ thống này. Bạn liên hệ cán bộ xã/phường phụ trách nhé."
LOCKED = ("Bạn đã nhập sai mã tổ công nghệ số nhiều lần. Để bảo vệ mã của tổ, vui lòng thử lại sau khoảng {minutes} "
          "phút, hoặc hỏi cán bộ xã/phường phụ trách để kiểm tra lại mã.")
GOODBYE = "Đã tắt chế độ Tổ công nghệ số. Câu trả lời sẽ hiện như cho người dân."
NOT_HELPER = "Chế độ Tổ công nghệ số đang tắt. Thành viên tổ gõ: /helper MÃ-CỦA-TỔ để bật."


def login_reply(attempt: LoginAttempt, codes: tuple[str, ...]) -> tuple[str, bool]:
    """The reply to a login attempt, and whether helper mode is now on."""
    if not codes:
        return NOT_CONFIGURED, False
    if attempt.code is None:
        return (MASKED_CODE if attempt.masked else ASK_CODE), False
    if is_valid_code(attempt.code, codes):
        return WELCOME, True
    return WRONG_CODE, False


def limited_login_reply(attempt: LoginAttempt, codes: tuple[str, ...], limiter: Limiter, sender: str,
                        address: str | None = None) -> tuple[str, bool]:
    """login_reply with the lock-out: the try is counted per sender (and per address) before the code is compared,
    so concurrent guesses cannot slip past the limit; a right code gives its count back."""
    if not codes or attempt.code is None:
        return login_reply(attempt, codes)
    counted = [(WRONG_CODES_PER_SENDER, sender)] + ([(WRONG_CODES_PER_ADDRESS, address)] if address else [])
    hits = [limiter.hit(rule, key) for rule, key in counted]
    blocked = [hit for hit in hits if hit.over]
    if blocked:  # not evaluated, so not counted: the lock-out ends with the window, however many more tries come
        for rule, key in counted:
            limiter.undo(rule, key)
        return LOCKED.format(minutes=max(hit.retry_after_minutes for hit in blocked)), False
    text, ok = login_reply(attempt, codes)
    if ok:
        for rule, key in counted:
            limiter.undo(rule, key)
    return text, ok


def print_reply(entry: Entry | None, public_url: str) -> str:
    """The printable link for the entry just seen (or the open guide)."""
    if entry is None:
        return "Bạn hỏi một việc trước (ví dụ “kích hoạt VNeID”), rồi gõ “in hướng dẫn” để lấy link in."
    if not entry.steps:
        return f"Mục “{entry.title}” không có các bước để in. Bạn hỏi một việc có các bước làm nhé."
    return (
        f"{PRINT_LABEL} “{entry.title}”: {guide_page_url(public_url, entry.id)}\n"
        "Mở link trên máy tính rồi bấm In (Ctrl+P). Trang có chữ to, mỗi bước một dòng và mã QR "
        "để mở lại trên điện thoại."
    )

"""Decide what to say about a number a resident typed: a firm warning, a gentle note, or nothing.

Channels mask numbers before Rasa stores anything (bot/core/privacy/), so a message reaches Rasa and the actions as
"mã otp của tôi là [mã số]". This module reads those placeholders: an ID, card or OTP/passcode earns a clear
warning never to share it, and so do a passport number and a typed password; a phone or account number, an e-mail
address, a plate, or a code that reads like an amount, a gentler note. Dossier codes, amounts, dates and office
landlines are not masked (bot/core/privacy/), so they earn no notice at all.
Standard library only (plus bot.core.privacy and bot.core.text), so Rasa's NLU component (bot/rasa_side/nlu/secret.py)
uses it as
well as the action; bot/replies/safe_reply.py builds the reply around the notice.
"""

from __future__ import annotations

import enum
import itertools
import re
from dataclasses import dataclass

from bot.core.privacy import CARD, CODE, ID_NUMBER, OLD_ID, PASSPORT, PASSWORD, PLACEHOLDERS, placeholders_in
from bot.core.text import deaccent, words

SECRET_WARNING = (
    "⚠️ Bạn đừng gửi mã OTP, passcode, mật khẩu, số căn cước hay số thẻ ngân hàng cho ai, kể cả người xưng là "
    "công an hay cán bộ. Tôi đã che số đó đi."
)
PERSONAL_NOTE = "Để giữ an toàn cho bạn, tôi đã che số bạn vừa gửi; bạn không cần gửi số riêng cho tôi."

ALWAYS_SECRET = (ID_NUMBER, OLD_ID, CARD, PASSPORT, PASSWORD)
# Words (without accents) that make a short number a secret code rather than, say, an amount of money.
SECRET_WORDS = frozenset(
    "otp passcode pass password matkhau mk pin code cvv xacnhan xacthuc kichhoat dangnhap baomat".split()
)
PUBLIC_CODES = frozenset("ho hoa buu tra vach qr thue tinh xa".split())  # the word after "mã"
# Words that only say what the number is ("mã otp của tôi là ..."): a message of these alone asks nothing.
FILLER_WORDS = frozenset(
    """day la cua toi minh em anh chi ban ad oi nhe nha a ah u va voi ma so otp passcode pass password mk mat khau
    pin code cvv cccd cmnd can cuoc the stk sdt dt dien thoai ngan hang tai khoan dinh danh ca nhan vua nhan duoc
    gui cho xac thuc kich hoat dang nhap bao moi ho chieu passport email mail gmail bien xe""".split()
)
_PLACEHOLDER = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS))


class Level(enum.Enum):
    """How firmly the bot speaks about a number it masked."""

    SECRET = "secret"  # OTP, passcode, ID or card: never share it
    PERSONAL = "personal"  # phone, account number, another code: no need to send it


@dataclass(frozen=True)
class Notice:
    """What the bot says before its answer, and how firmly."""

    level: Level
    text: str


def question_part(text: str) -> str:
    """The message without its placeholders."""
    return " ".join(_PLACEHOLDER.sub(" ", text).split())


def _plain_words(text: str) -> list[str]:
    return [deaccent(w) for w in words(question_part(text))]


def asks_something(text: str) -> bool:
    """Whether anything beyond the numbers and words naming them is left ("mã otp của tôi là [mã số]": no)."""
    return any(w not in FILLER_WORDS for w in _plain_words(text))


def _names_a_secret(text: str) -> bool:
    plain = _plain_words(text)
    pairs = {a + b for a, b in itertools.pairwise(plain)}  # "mat khau" -> "matkhau"
    if SECRET_WORDS & (set(plain) | pairs):
        return True
    # a bare "mã" ("mã của tôi là ...") is a code; "mã hồ sơ", "mã hóa đơn", "mã bưu chính" are not secrets
    return any(w == "ma" and after not in PUBLIC_CODES for w, after in itertools.pairwise([*plain, ""]))


def notice_for(text: str) -> Notice | None:
    """The warning or note for a masked message; None when nothing was masked."""
    found = placeholders_in(text)
    if not found:
        return None
    secret = any(p in ALWAYS_SECRET for p in found) or (
        CODE in found and (_names_a_secret(text) or not asks_something(text))  # a bare code is an OTP
    )
    return Notice(Level.SECRET, SECRET_WARNING) if secret else Notice(Level.PERSONAL, PERSONAL_NOTE)


def is_secret(text: str) -> bool:
    """Whether a masked message holds a secret (the firm warning)."""
    notice = notice_for(text)
    return notice is not None and notice.level is Level.SECRET

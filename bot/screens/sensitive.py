"""Does a screenshot's text show something private: an ID card, a bank card or a one-time code?

When it does, the caller tells the resident not to send such pictures and keeps nothing (no image, no text, no
log line with the text). Missing one is worse than a needless warning, so the rules lean towards saying yes, but
an ordinary error screen must pass: "Số định danh cá nhân hoặc mật khẩu không đúng" names the ID number without
showing one, and the hotline 1900 0368 is not an OTP.

Read on the plain text (bot.core.text.plain: no diacritics, lower case), because OCR gets Vietnamese marks wrong. Digit
runs are read as OCR and card printers lay them out: a card number in groups of four ("4111 1111 1111 1111"), an ID
number in one piece or in groups ("0791 2345 6789"); codes, dates and amounts written with dots, dashes or slashes
are not read as one number.
"""

from __future__ import annotations

import re
from enum import Enum

from bot.core.text import plain


class SensitiveKind(str, Enum):
    """What private thing a screen shows."""

    ID_CARD = "id_card"
    BANK_CARD = "bank_card"
    OTP = "otp"


# A run of digits, allowing the single spaces that group them on cards and screens; not glued to letters, dots or
# dashes, which make dossier codes, dates and amounts ("G22.99-251206-0001", "1/7/2025", "1.250.000").
_DIGIT_RUN = re.compile(r"(?<!\w)(?<!\w[.\-/])\d(?: ?\d)*(?!\w)(?![.\-/]\w)")
ID_DIGITS = 12  # số định danh cá nhân / CCCD number
CARD_DIGITS = range(13, 20)  # payment card numbers (PAN): 16 for most, 13-19 in the standard
OTP_DIGITS = range(4, 9)
PUBLIC_PREFIXES = ("1900", "1800")  # hotlines ("1900 0368"), never a code sent to one person
OTP_REACH = 120  # characters between an OTP cue and its code: a line or two of a screen ("Mã OTP của bạn là: 482913")
# A code may be split by spaces or one dash ("201-416", "5 0 3 8 2 1"), as apps show it and OCR reads it; a date
# with dashes ("12-05-2026") is not one code, nor is a clock or a percentage on the status bar ("14:42 31%").
_CODE_RUN = re.compile(r"(?<!\w)(?<!\w[./\-])(?<!\d:)\d(?: ?\d)*(?:-\d(?: ?\d)*)?(?!\w)(?![./\-]\w)(?! ?%)")

# What the chip ID card (old CCCD and the 2024 căn cước) prints, without diacritics: its heading, its field labels,
# and dates (birth, expiry). Texts *about* the card name the heading and a label or two but carry no date of birth.
ID_CARD_HEADINGS = ("can cuoc", "cong hoa xa hoi chu nghia viet nam", "socialist republic of viet nam",
                    "identity card", "citizen identity", "cccd")
ID_CARD_LABELS = (
    "so dinh danh ca nhan", "personal identification number", "ho, chu dem va ten", "ho va ten", "full name",
    "ngay sinh", "date of birth", "gioi tinh", "sex", "quoc tich", "nationality", "que quan", "place of origin",
    "noi thuong tru", "place of residence", "noi cu tru", "co gia tri den", "date of expiry", "dac diem nhan dang",
    "ngon tro", "index finger", "noi dang ky khai sinh", "place of birth",
)
ID_CARD_MIN_LABELS = 2
_DATE = re.compile(r"(?<!\d)\d{1,2}/\d{1,2}/\d{4}(?!\d)")
# Words printed on a payment card, and the networks and banks whose names it carries: names alone are what any text
# about paying or linking an account says ("Vietcombank, BIDV, NAPAS"), so at least one printed word is needed.
CARD_PRINT_WORDS = ("valid thru", "valid from", "good thru", "thru", "expires end", "debit", "credit", "cardholder",
                    "chu the")
BANK_NAMES = ("visa", "mastercard", "napas", "jcb", "unionpay", "amex", "vietcombank", "vietinbank", "bidv",
              "agribank", "techcombank", "mb bank", "mbbank", "vpbank", "acb", "sacombank", "tpbank", "hdbank", "shb",
              "vib", "ocb", "msb", "seabank")
CARD_MIN_WORDS = 2
OTP_CUES = ("ma otp", "otp", "ma xac thuc", "ma xac nhan", "mat khau mot lan", "ma kich hoat", "ma bao mat",
            "verification code", "ma giao dich", "passcode")


def _digit_runs(text: str) -> list[tuple[int, str]]:
    """(position, digits) of every digit run, separators removed."""
    return [(m.start(), re.sub(r"\D", "", m.group())) for m in _DIGIT_RUN.finditer(text)]


def _count(words: tuple[str, ...], text: str) -> int:
    return sum(1 for w in words if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text))


def _shows_otp(text: str) -> bool:
    cues = [m.end() for cue in OTP_CUES for m in re.finditer(rf"(?<!\w){re.escape(cue)}(?!\w)", text)]
    for position, digits in ((m.start(), re.sub(r"\D", "", m.group())) for m in _CODE_RUN.finditer(text)):
        if len(digits) not in OTP_DIGITS or digits.startswith(PUBLIC_PREFIXES):
            continue
        if any(-OTP_REACH <= position - cue <= OTP_REACH for cue in cues):
            return True
    return False


def sensitive_kind(text: str) -> SensitiveKind | None:
    """The private thing the screen's text shows, or None."""
    flat = plain(text)
    runs = _digit_runs(flat)
    lengths = [len(digits) for _, digits in runs]
    printed = _count(CARD_PRINT_WORDS, flat)
    bank_card = printed >= 1 and printed + _count(BANK_NAMES, flat) >= CARD_MIN_WORDS
    id_heading = _count(ID_CARD_HEADINGS, flat) >= 1
    id_card = id_heading and _count(ID_CARD_LABELS, flat) >= ID_CARD_MIN_LABELS and _DATE.search(flat) is not None
    if bank_card or (any(n in CARD_DIGITS for n in lengths) and not id_heading):
        return SensitiveKind.BANK_CARD  # an ID number misread with a digit too many stays an ID card
    if ID_DIGITS in lengths or id_card or (id_heading and any(n in CARD_DIGITS for n in lengths)):
        return SensitiveKind.ID_CARD
    if _shows_otp(flat):
        return SensitiveKind.OTP
    return None

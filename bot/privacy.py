"""Remove personal data (ID numbers, phone numbers, OTPs, card numbers) before text is logged or stored."""

from __future__ import annotations

import logging
import re

# What each kind of number becomes. Channels mask a resident's message before Rasa sees it, so these
# placeholders are what the tracker store, the logs and the actions read (bot/safety.py reacts to them).
CARD = "[số thẻ]"
ID_NUMBER = "[số định danh]"
PHONE = "[số điện thoại]"
LONG_NUMBER = "[dãy số]"  # 10-15 digits that are no phone: a bank account, a BHYT or tax number
OLD_ID = "[số CMND]"
CODE = "[mã số]"  # an OTP, passcode or PIN (or another short code: bot/safety.py looks at the words around it)
PLACEHOLDERS = (CARD, ID_NUMBER, PHONE, LONG_NUMBER, OLD_ID, CODE)

# Order matters: longer digit runs first, so a 12-digit ID is not half-masked as a phone number.
# Long runs are masked even when glued to letters ("sdt0912345678"); short codes only when they
# stand alone, so hashes like "ace98542f2" and form codes stay readable in logs.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?<!\d)(?:\d[ -]?){15,18}\d(?!\d)"), CARD),  # bank card, 16 to 19 digits
    (re.compile(r"(?<!\d)(?:\d[ -]?){11}\d(?!\d)"), ID_NUMBER),  # căn cước / CCCD, also "0012 3456 7890"
    (re.compile(r"(?<!\d)(?:\+?84|0)(?:[ .-]?\d){9}(?!\d)"), PHONE),
    (re.compile(r"(?<!\d)\d{10,15}(?!\d)"), LONG_NUMBER),
    (re.compile(r"(?<!\d)\d{9}(?!\d)"), OLD_ID),
    # OTP, passcode, PIN; a year such as 2025 and a document number such as 2733/QĐ-BYT are left alone
    (re.compile(r"(?<!\w)(?!(?:19|20)\d\d(?!\d))\d{4,8}(?![\w/])"), CODE),
]
# Public hotlines (1900 0368, 18001234) are nobody's personal data, and residents ask whether one is real.
# Not when it is one group of a longer number ("4111 1900 0368 1111" is a card).
_HOTLINE = re.compile(r"(?<![\d+])(?<!\d[ .-])1[89]00(?:[ .-]?\d){4}(?:(?:[ .-]?\d){2})?(?![ .-]?\d)")


def _mask_part(text: str) -> str:
    for pattern, placeholder in _PATTERNS:
        text = pattern.sub(placeholder, text)
    return text


def mask(text: str) -> str:
    """Replace anything that looks like personal numbers with a placeholder (public hotlines stay)."""
    out, start = [], 0
    for hotline in _HOTLINE.finditer(text):
        out += [_mask_part(text[start : hotline.start()]), hotline.group()]
        start = hotline.end()
    out.append(_mask_part(text[start:]))
    return "".join(out)


def placeholders_in(text: str) -> list[str]:
    """The placeholders a masked text contains, in PLACEHOLDERS order."""
    return [p for p in PLACEHOLDERS if p in text]


class MaskingFilter(logging.Filter):
    """A logging filter that masks personal numbers in every record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, mask it, and drop the arguments."""
        record.msg = mask(record.getMessage())
        record.args = None
        return True


def install_log_masking() -> None:
    """Attach the masking filter to every handler of the root logger."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(MaskingFilter())

"""Remove personal data (ID numbers, phone numbers, OTPs, card numbers) before text is logged or stored."""

from __future__ import annotations

import logging
import re

# Order matters: longer digit runs first, so a 12-digit ID is not half-masked as a phone number.
# Long runs are masked even when glued to letters ("sdt0912345678"); short codes only when they
# stand alone, so hashes like "ace98542f2" and form codes stay readable in logs.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?<!\d)(?:\d[ -]?){15}\d(?!\d)"), "[số thẻ]"),  # bank card, 16 digits
    (re.compile(r"(?<!\d)\d{12}(?!\d)"), "[số định danh]"),  # căn cước / CCCD
    (re.compile(r"(?<!\d)(?:\+?84|0)(?:[ .-]?\d){9}(?!\d)"), "[số điện thoại]"),
    (re.compile(r"(?<!\d)\d{9}(?!\d)"), "[số CMND]"),
    # OTP, passcode, PIN; a year such as 2025 is left alone
    (re.compile(r"(?<!\w)(?!(?:19|20)\d\d(?!\d))\d{4,8}(?!\w)"), "[mã số]"),
]


def mask(text: str) -> str:
    """Replace anything that looks like personal numbers with a placeholder."""
    for pattern, placeholder in _PATTERNS:
        text = pattern.sub(placeholder, text)
    return text


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

"""What each kind of personal data becomes once masked, and how to find those placeholders in a masked text.

Channels mask a resident's message before Rasa sees it, so these placeholders are what the tracker store, the logs
and the actions read (bot/replies/safety.py reacts to them). Standard library only (see bot/core/privacy/__init__.py).
"""

from __future__ import annotations

import re

from bot.core.text import deaccent

CARD = "[số thẻ]"
ID_NUMBER = "[số định danh]"
PHONE = "[số điện thoại]"
LONG_NUMBER = "[dãy số]"  # 10-15 digits that are no phone: a bank account, a BHYT, BHXH or tax number
OLD_ID = "[số CMND]"
CODE = "[mã số]"  # an OTP, passcode or PIN (or another short code: bot/replies/safety.py looks at the words around it)
PASSPORT = "[số hộ chiếu]"
EMAIL = "[địa chỉ email]"
PLATE = "[biển số xe]"
PASSWORD = "[mật khẩu]"
HELPER_CODE = "[mã tổ]"  # a community-technology-team code (bot/team/mode.py); see mask_incoming
PLACEHOLDERS = (CARD, ID_NUMBER, PHONE, LONG_NUMBER, OLD_ID, CODE, PASSPORT, EMAIL, PLATE, PASSWORD, HELPER_CODE)
_PLACEHOLDER = re.compile("|".join(re.escape(deaccent(p).lower()) for p in PLACEHOLDERS))


def placeholders_in(text: str) -> list[str]:
    """The placeholders a masked text contains, in PLACEHOLDERS order."""
    return [p for p in PLACEHOLDERS if p in text]

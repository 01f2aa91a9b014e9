"""The words (plain form: no diacritics, lower case, abbreviations expanded) that name each topic: a message naming
one is about it (bot/replies/topic_menu.py), and a follow-up naming another is a new question (followup.py)."""

from __future__ import annotations

import re

from bot.core.text import expand_abbreviations, plain, words


def folded(text: str) -> str:
    """The message as plain words joined by single spaces ("Quên MK VNeID!" → "quen mat khau vneid")."""
    tokens = [plain(t) for t in expand_abbreviations(words(text))]
    return " ".join(t for part in tokens for t in part.split())


# Words (plain form) that name a topic. Order matters only for messages naming two: the first named wins.
TOPIC_WORDS: dict[str, re.Pattern[str]] = {
    "vneid": re.compile(r"\b(vneid|vn eid|dinh danh|can cuoc|cccd|cmnd|muc 2|cap do 2|tam tru|thuong tru|luu tru"
                        r"|giay phep lai xe|bang lai|gplx)\b"),
    # longest first where one name holds another: "thẻ bảo hiểm y tế" is one name, not "thẻ bảo hiểm" + "y tế"
    "suc-khoe": re.compile(r"\b(the bhyt|the bao hiem y te|bhyt|bao hiem y te|so suc khoe|suc khoe dien tu|vssid"
                           r"|kham chua benh|bhxh|bao hiem xa hoi|the bao hiem)\b"),
    "hoa-don": re.compile(r"\b(hoa don|hddt|ma cua co quan thue|thue|ho kinh doanh|etax)\b"),
    "dich-vu-cong": re.compile(r"\b(cong dich vu cong quoc gia|dich vu cong quoc gia|dvc quoc gia|dich vu cong"
                               r"|dichvucong|cong dvc|dvc|ho so truc tuyen|nop ho so)\b"),
}


def named_topic(text: str) -> str | None:
    """The topic a message names (the first named when it names two), or None."""
    text_folded = folded(text)
    found = [(m.start(), topic) for topic, pattern in TOPIC_WORDS.items() if (m := pattern.search(text_folded))]
    return min(found)[1] if found else None


# How a topic is named when one of two asks leaves it unsaid ("đổi số điện thoại và quên mật khẩu vneid").
TOPIC_NAMES = {"vneid": "VNeID", "suc-khoe": "BHYT", "hoa-don": "hóa đơn điện tử", "dich-vu-cong": "dịch vụ công"}

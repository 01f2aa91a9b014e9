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


# Things within a topic that many of its entries are about, narrower than a topic and wider than a task: "vssid bị lỗi"
# is about the VssID entries, not one of them. Keyed by how a reply names them ("Bạn đang gặp vấn đề với VssID phải
# không?"); longest first.
SUBJECTS: dict[str, re.Pattern[str]] = {
    "thẻ căn cước": re.compile(r"\b(the can cuoc cong dan|can cuoc cong dan|chung minh nhan dan"
                               r"|the can cuoc|can cuoc|cccd|cmnd)\b"),
    "đăng ký cư trú": re.compile(r"\b(tam tru|thuong tru|luu tru|cu tru)\b"),
    "bằng lái": re.compile(r"\b(giay phep lai xe|bang lai xe|bang lai|gplx)\b"),
    "tài khoản mức 2": re.compile(r"\b(muc 2|cap do 2)\b"),
    "Sổ sức khỏe điện tử": re.compile(r"\b(so suc khoe dien tu|so suc khoe|suc khoe dien tu)\b"),
    "VssID": re.compile(r"\b(vssid)\b"),
    "khám bệnh bằng BHYT": re.compile(r"\b(kham chua benh|kham benh|di kham|kham)\b"),
    "BHXH": re.compile(r"\b(bao hiem xa hoi|bhxh)\b"),
    "eTax Mobile": re.compile(r"\b(etax mobile|etax)\b"),
    "mã số thuế": re.compile(r"\b(ma so thue)\b"),
    "hộ kinh doanh": re.compile(r"\b(ho kinh doanh)\b"),
    "hồ sơ trên Cổng Dịch vụ công": re.compile(r"\b(ho so truc tuyen|ho so)\b"),
    "thủ tục trên Cổng Dịch vụ công": re.compile(r"\b(thu tuc hanh chinh|thu tuc)\b"),
}


# The apps residents confuse with each other: VNeID by its own names (its topic's words are far wider: "căn cước",
# "định danh"), the others as the subjects above name them.
APPS: dict[str, re.Pattern[str]] = {
    "VNeID": re.compile(r"\b(vneid|vn eid|app cong an)\b"),
    "VssID": SUBJECTS["VssID"],
    "eTax Mobile": SUBJECTS["eTax Mobile"],
}


def named_apps(text: str) -> set[str]:
    """The apps a text names ("vssid bị khóa" names VssID)."""
    text_folded = folded(text)
    return {app for app, pattern in APPS.items() if pattern.search(text_folded)}


def named_subjects(text: str) -> list[str]:
    """The subjects a message names ("thẻ bhyt trên vneid" names none; "app etax" names eTax)."""
    text_folded = folded(text)
    return [name for name, pattern in SUBJECTS.items() if pattern.search(text_folded)]


def without_subjects(text_folded: str) -> str:
    """A folded text with its subjects cut out: what is left names topics by their own names ("thẻ BHYT", "VNeID")."""
    for pattern in SUBJECTS.values():
        text_folded = pattern.sub(" | ", text_folded)
    return text_folded


def named_topics(text: str, by_name: bool = False) -> list[str]:
    """Every topic a message names, the first named first; `by_name`: by the topic's own names only, not by its
    subjects ("sổ sức khỏe trên vneid" names VNeID by name, and the health topic by a subject)."""
    text_folded = without_subjects(folded(text)) if by_name else folded(text)
    found = sorted((m.start(), topic) for topic, pattern in TOPIC_WORDS.items() if (m := pattern.search(text_folded)))
    return [topic for _, topic in found]


def named_topic(text: str) -> str | None:
    """The topic a message names (the first named when it names two), or None."""
    return next(iter(named_topics(text)), None)


# How a topic is named when one of two asks leaves it unsaid ("đổi số điện thoại và quên mật khẩu vneid").
TOPIC_NAMES = {"vneid": "VNeID", "suc-khoe": "BHYT", "hoa-don": "hóa đơn điện tử", "dich-vu-cong": "dịch vụ công"}

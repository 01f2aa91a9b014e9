"""What a message means right after an answer: walk me through it, I am stuck at step N, or a short follow-up
question on the same matter ("ở đâu?", "mất bao lâu?", "thế còn cho con tôi?").

Pure: the message and the entry last answered (the `last_entry` slot) in, a reading out. The actions decide what to
do with it (actions/questions.py); the contextual search itself is in bot/replies/answers.py.

Residents type these without diacritics and with chat abbreviations, so everything is matched on the plain form
(bot/core/text.plain). A message that names another topic, or is long, is a new question, never a follow-up: the
conversation must not drag a new question back to the old answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from bot.core.text import expand_abbreviations, plain, words
from bot.knowledge.model import Entry, topic_of
from bot.replies.topic_words import TOPIC_WORDS

MAX_START_WORDS = 7  # "dạ bác muốn làm theo từng bước ạ": longer is a question
MAX_FOLLOW_UP_WORDS = 12  # "thế còn nếu tôi đã đổi số điện thoại thì sao": longer stands on its own


class Kind(Enum):
    START_GUIDE = "start_guide"  # walk me through the last answer's steps
    STUCK = "stuck"  # stuck at one step of the last answer
    FOLLOW_UP = "follow_up"  # a short question that leans on the last answer


@dataclass(frozen=True)
class Reading:
    kind: Kind
    step: int = 1
    aspect: str = ""  # for FOLLOW_UP: where, how_long, fee, papers, someone_else, condition, how


# Whole messages (politeness words trimmed) that mean "go on, show me how" after an answer with steps.
START_PHRASES = {
    "tiep", "tiep tuc", "bat dau", "lam theo", "lam theo huong dan", "ok", "oke", "okay", "ok roi", "duoc roi",
    "huong dan", "huong dan tung buoc", "huong dan toi", "huong dan cu the", "huong dan chi tiet",
    "chi tung buoc", "chi toi tung buoc", "tung buoc", "lam tung buoc", "chi toi", "chi cach lam", "chi giup",
    "lam sao", "lam the nao", "lam nhu the nao", "cach lam", "roi sao nua", "sau do thi sao", "roi lam gi",
    "tiep theo", "tiep di", "bat dau di", "lam luon",
}
# Inside a longer question, these ask for the steps one at a time rather than a list.
STEP_REQUEST = re.compile(r"\b(tung buoc|chi tung|huong dan cu the|huong dan chi tiet|cam tay chi viec)\b")
_LEADING = {"da", "vang", "u", "uh", "bac", "toi", "em", "minh", "con", "chau", "ad", "cho", "oi", "vay", "the",
            "thi", "nhu", "roi", "ban", "hay", "xin"}
_TRAILING = {"di", "nhe", "nha", "a", "ah", "voi", "giup", "ad", "ban", "em", "chau", "oi", "nhi", "the", "nao",
             "luon", "gium", "dum", "toi", "minh", "cho"}

_NUMBER_WORDS = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "sau": 6, "bay": 7, "tam": 8, "chin": 9,
                 "muoi": 10, "dau": 1, "dau tien": 1, "cuoi": -1, "cuoi cung": -1}
_STEP = re.compile(r"\bbuoc (?:thu |so )?(\d{1,2}|dau tien|cuoi cung|mot|hai|ba|bon|tu|nam|sau|bay|tam|chin|muoi"
                   r"|dau|cuoi)\b")
_TROUBLE = re.compile(
    r"\b(ket|mac|loi|bao loi|khong duoc|khong dc|ko duoc|ko dc|k duoc|k dc|kg dc|kh dc|khong lam duoc|khong tiep"
    r"|khong qua|dung lai|dung o|treo|khong hien|khong thay|khong bam|khong nhan|khong vao|that bai|sai"
    r"|khong biet|khong hieu|bi gi|sao vay|thi sao|lam sao|the nao|chua duoc|van khong|quay mai"
    # "máy không đọc được thẻ", "báo không tìm thấy", "chờ mãi không có mã"
    r"|khong \w+ duoc|khong tim thay|khong co|cho mai|mai khong)\b")

# Short follow-up questions, by what they ask about the last answer's matter.
ASPECTS: dict[str, re.Pattern[str]] = {
    "where": re.compile(r"\b(o dau|cho nao|noi nao|dia chi|lam o dau|nop o dau|den dau|tai dau|o cho nao)\b"),
    "how_long": re.compile(r"\b(bao lau|may ngay|bao nhieu ngay|khi nao co|bao gio co|mat bao lau|lau khong"
                           r"|bao lau thi)\b"),
    "fee": re.compile(r"\b(phi|le phi|mat tien|bao nhieu tien|mien phi|tra tien|ton tien|co mat tien|mat phi"
                      r"|tinh tien)\b"),
    "papers": re.compile(r"\b(giay to|can mang|mang gi|mang theo|ho so|can nhung gi|can gi)\b"),
    "someone_else": re.compile(r"\b(cho con|cho vo|cho chong|cho bo|cho me|cho ong|cho ba|cho chau|cho em"
                               r"|nguoi than|nguoi khac|lam ho|lam thay|nguoi nha|nguoi gia|tre em|con toi"
                               r"|con minh|bo toi|me toi|ong ba)\b"),
    "condition": re.compile(r"^(the con|con neu|vay con|the neu|neu|truong hop|con truong hop|lo nhu|nhung neu"
                            r"|con khi|the khi)\b"),
    "how": re.compile(r"^(the|vay|con) (lam sao|lam the nao|thi sao)\b"),
}
# Words a follow-up is made of besides its aspect cue: what is left names a matter of its own (own_words).
_FOLLOW_UP_WORDS = {"thi", "con", "neu", "vay", "phai", "lam", "co", "khong", "duoc", "can", "gi", "bao", "nhieu",
                    "may", "xong", "het", "ai", "dau", "o", "nao", "sao", "roi", "ma", "la", "nhu", "nua", "tien",
                    "ngay", "lau", "mat", "phi"} | _LEADING | _TRAILING


def _plain_tokens(text: str) -> list[str]:
    tokens = [plain(t) for t in expand_abbreviations(words(text))]
    return [t for part in tokens for t in part.split()]


def _trims(tokens: list[str]) -> set[str]:
    """The message, and every way of dropping politeness words from its ends ("dạ làm thế nào ạ" → "làm thế nào":
    dropping "nào" and "thế" too would leave a bare "làm")."""
    starts = [0]
    while starts[-1] < len(tokens) - 1 and tokens[starts[-1]] in _LEADING:
        starts.append(starts[-1] + 1)
    out = set()
    for start in starts:
        end = len(tokens)
        out.add(" ".join(tokens[start:end]))
        while end - 1 > start and tokens[end - 1] in _TRAILING:
            end -= 1
            out.add(" ".join(tokens[start:end]))
    return out


def _step_number(value: str, steps: int) -> int | None:
    number = int(value) if value.isdigit() else _NUMBER_WORDS.get(value)
    if number == -1:
        return steps
    return number if number is not None and 1 <= number <= steps else None


def names_other_topic(text: str, last: Entry) -> bool:
    """The message names a topic other than the last answer's: a new question."""
    folded = " ".join(_plain_tokens(text))
    own = last.topic or topic_of(last.id)
    return any(pattern.search(folded) for topic, pattern in TOPIC_WORDS.items() if topic != own)


def asks_for_steps(text: str) -> bool:
    """A question that asks to be walked through ("chỉ tôi từng bước cài VNeID"): start the guide directly."""
    return bool(STEP_REQUEST.search(" ".join(_plain_tokens(text))))


# The words of a bare request to be walked through ("hướng dẫn từng bước cho bác", "cầm tay chỉ từng bước giúp tôi").
_GUIDE_WORDS = {"huong", "dan", "tung", "buoc", "chi", "mot", "lam", "theo", "bat", "dau", "cam", "tay", "viec",
                "cham", "thoi", "di", "voi", "nhe", "giup", "cho", "cu", "the", "tiet", "ky", "lai",
                *_LEADING, *_TRAILING}


def names_a_task(text: str) -> bool:
    """A request to be walked through that also says through what ("chỉ tôi từng bước cài VNeID"): a question to
    search, not a request for the last answer's guide."""
    return any(t not in _GUIDE_WORDS for t in _plain_tokens(text))


# Words around "từng bước" that belong to the request for steps ("chỉ tôi từng bước", "cầm tay chỉ việc giúp bác").
_REQUEST_WORDS = {"chi", "huong", "dan", "toi", "bac", "em", "minh", "chau", "giup", "mot", "cam", "tay", "viec",
                  "lam", "theo", "voi", "nhe", "di", "a", "cu", "the", "tiet", "cham"}


def searched_task(text: str) -> str:
    """What to search for a question that asks to be walked through: the task without the words asking for steps
    ("chỉ tôi từng bước cài VNeID" → "cài VNeID"), which would only blur the search; other texts as typed."""
    tokens = words(text)
    plains = [plain(t) for t in tokens]
    found = STEP_REQUEST.search(" ".join(plains))
    if found is None:
        return text
    start = " ".join(plains)[: found.start()].count(" ")
    end = start + found.group(0).count(" ") + 1
    while start > 0 and plains[start - 1] in _REQUEST_WORDS:
        start -= 1
    while end < len(tokens) and plains[end] in _REQUEST_WORDS:
        end += 1
    task = tokens[:start] + tokens[end:]
    return " ".join(task) if len(task) >= 2 else text


def read(text: str, last: Entry | None) -> Reading | None:
    """What `text` means after `last` was answered; None when it is a question of its own (search as usual)."""
    if last is None or text.strip().startswith("/"):
        return None
    tokens = _plain_tokens(text)
    if not tokens:
        return None
    folded = " ".join(tokens)
    if last.steps:
        step = _STEP.search(folded)
        if step and _TROUBLE.search(folded) and len(tokens) <= MAX_FOLLOW_UP_WORDS:
            number = _step_number(step.group(1), len(last.steps))
            if number is not None:
                return Reading(Kind.STUCK, step=number)
        if len(tokens) <= MAX_START_WORDS and _trims(tokens) & START_PHRASES:
            return Reading(Kind.START_GUIDE)
    if len(tokens) > MAX_FOLLOW_UP_WORDS or names_other_topic(text, last):
        return None
    for aspect, pattern in ASPECTS.items():
        if pattern.search(folded):
            return Reading(Kind.FOLLOW_UP, aspect=aspect)
    return None


def own_words(text: str) -> list[str]:
    """The words of a follow-up that are neither its aspect cue nor small talk: "đăng ký thành lập doanh nghiệp làm ở
    đâu" names a matter of its own (6 words), "thế nộp ở đâu" hardly (1)."""
    folded = " ".join(_plain_tokens(text))
    for pattern in ASPECTS.values():
        folded = pattern.sub(" ", folded)
    return [t for t in folded.split() if t not in _FOLLOW_UP_WORDS]


def contextual_query(text: str, last: Entry) -> str:
    """The follow-up asked as a whole question: the last answer's title carries what the resident left unsaid."""
    return f"{text.strip()} ({last.title})"

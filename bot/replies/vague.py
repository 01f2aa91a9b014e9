"""A vague problem: a topic named, a sign that something is wrong, and nothing else the knowledge base could match
specifically ("vneid của tôi bị lỗi rồi", "thẻ bhyt trên vneid có vấn đề", "app etax của tôi bị sao ấy").

Such a message gets the topic's menu as a question back (bot/replies/topic_menu.py) even when the search found an
entry it is sure of: the match then rests on the topic's and the trouble's words, which many entries share, so any
one entry is a guess. The signal is what is left of the message once its topic and subject words, its trouble words
and the words that carry no ask (pronouns, kin, particles, "app", "điện thoại") are cut out: when the base has rare
words (or word pairs) for some of it ("quên mật khẩu", "không nhận được OTP", "vào … không được"), the message names
a task and the search answers it; when nothing of it is rare in the base, it names none.

Pure: the caller supplies how common each term is in the knowledge base (LexicalIndex.share).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

from bot.replies.topic_words import SUBJECTS, TOPIC_WORDS, folded, named_topic

# A term in at most this share of the entries is one the base can match specifically. Measured on the base's
# vocabulary (350 entries): task words sit at 1-17% ("cài đặt" 3%, "mã OTP" 8%, "quên" 10%, "khám" 11%, "đăng nhập"
# 17%), the words of any question about an app at 29-68% ("tài khoản" 29%, "vào" 40%, "dùng" 68%).
RARE_SHARE = 0.2

# Signs that something is wrong, not what. Failing with a generic verb ("dùng", "làm", "bấm", "đọc" … "không được",
# "không hiểu") is trouble; failing with a task's verb ("vào", "mở", "nhận", "lấy" … "không được") names the task and
# is left in. "… có bị gì không?" asks about a consequence, "trả lời" and "quyền lợi" are no "lỗi", "không biết chọn
# …" goes on to ask something: none of them is trouble.
TROUBLE = re.compile(
    r"\b(?:bi loi|bao loi|(?<!tra )(?<!quyen )loi(?! ich)|co van de|van de|truc trac|sao do|sao ay|the nao ay"
    r"|bi (?:sao|gi|lam sao)(?! khong)|lam sao (?:ay|do)|co chuyen(?= (?:gi|roi|a|ay|do|the|oi|chau|em|con)\b|$)"
    r"|bi hu|hu roi|bao gi (?:do|ay)|hien gi do|thong bao gi|hien thong bao|gi (?:do|ay)"
    r"|khong (?:dung|lam|bam|chay|xai) (?:duoc|dc)|(?:dung|lam|bam|xai)(?: \w+){0,4} (?:khong|chua) (?:duoc|xong)"
    r"|khong chay|bi treo|treo|kho (?:qua|hieu|khan|dung|lam|that)|(?:rat|that) kho"
    r"|(?:(?:doc|xem|nghe)(?: \w+){0,2} )?khong hieu"
    r"|khong biet(?: (?:lam sao|lam the nao|duong nao(?: ma lan)?|sao|gi)\b|(?= *$))|toi chiu|chiu (?:roi|thoi|khong)"
    r"|vuong mac|vuong|loay hoay)\b"
)
# Asking for one fact ("ở đâu", "bao lâu", "bao nhiêu", "khi nào", "nhờ ai") names what is wanted: not vague.
ASKS_FACT = re.compile(r"\b(?:o dau|cho nao|noi nao|bao lau|bao nhieu|khi nao|bao gio|may ngay|nho ai|hoi ai"
                       r"|lien he ai)\b")

# Words that carry no ask in a message about a problem: who ("tôi", "bà", "cháu"), particles and adverbs ("ạ", "ơi",
# "rồi", "cứ", "mãi", "nữa"), negation, "bị", "được" and "làm" (the verb they go with decides), the app or page the
# topic lives on ("app", "ứng dụng", "trang", "trực tuyến"). Plain forms: no diacritics, lower case. A plain form that
# may also be a task's word stays out ("dang": đăng nhập, "ma": mã, "thay": thay thế, "may": máy mới, "cai": cài
# đặt, "phan": phản ánh, "tuyen": thông tuyến): how common it is in the base decides for it, and the names made of
# such words go as a whole ("phần mềm", "trực tuyến").
NO_ASK = frozenset("""
    toi tui minh em anh chi bac co chu di cau ong ba me bo cha chau con nha no ho chung ai ban ad admin mn moi nguoi
    a ah ak ha nhe nhi oi voi roi ay do day kia nay the vay thi la va hay hoac nhung ca cung luon lai van
    da se cu mai hoai nua qua lam rat hon nhat sao gi nao dau khong chua duoc bi cho cua tren trong ngoai
    o ve de den tu ra len xuong bay gio hom luc buoi be
    app dung trang web website online vu chuyen hoi giup
""".split())
NO_ASK_NAMES = re.compile(r"\b(?:phan mem|ung dung|truc tuyen|tren mang|qua mang|mang internet)\b")


def _pieces(text_folded: str) -> list[list[str]]:
    """The message's words once the topic, subject and trouble words are cut out, in runs of adjacent words."""
    cut = text_folded
    for pattern in (*SUBJECTS.values(), *TOPIC_WORDS.values(), TROUBLE, NO_ASK_NAMES):
        cut = pattern.sub(" | ", cut)
    return [run.split() for run in cut.split("|") if run.split()]


def ask_terms(text: str) -> list[str]:
    """What is left of the ask: the words that may carry one, and pairs of them side by side ("mat_khau", "may_moi")."""
    terms: list[str] = []
    for run in _pieces(folded(text)):
        kept = [w if w not in NO_ASK else "" for w in run]
        terms += [w for w in kept if w]
        terms += [f"{a}_{b}" for a, b in itertools.pairwise(kept) if a and b]
    return terms


def task_terms(text: str, share: Callable[[str], float]) -> list[str]:
    """The ask's terms the knowledge base has few entries for: the task the message names, if any."""
    return [t for t in ask_terms(text) if 0.0 < share(t) <= RARE_SHARE]


def vague_topic(text: str, share: Callable[[str], float]) -> str | None:
    """The topic of a message that says something is wrong there without naming a task, or None."""
    text_folded = folded(text)
    topic = named_topic(text)
    if topic is None or not TROUBLE.search(text_folded) or ASKS_FACT.search(text_folded):
        return None
    return None if task_terms(text, share) else topic


def troubled_topic(text: str) -> str | None:
    """The topic of a message that names one and a trouble, task or not: where a search found no sure answer, the
    topic's menu is a better reply than a decline ("vneid bị lỗi không nhận được otp" with no entry sure enough)."""
    topic = named_topic(text)
    return topic if topic is not None and TROUBLE.search(folded(text)) else None


# The app itself misbehaving ("app báo lỗi", "không vào được", "bị treo"), not a paper, a card or a fee: where a
# topic's first-aid steps (update, try again later, the hotline) are worth showing with its menu.
APP_TROUBLE = re.compile(
    r"\b(?:app|ung dung|phan mem|loi|treo|dang nhap|(?:khong|ko|k) (?:vao|mo|dang nhap)"
    r"|(?:vao|mo)(?: \w+){0,2} (?:khong|ko|k) (?:duoc|dc)|quay mai|load)\b"
)


def app_trouble(text: str) -> bool:
    """Whether a vague problem is about the app not working (see APP_TROUBLE)."""
    return bool(APP_TROUBLE.search(folded(text)))

"""Turn a resident's message into a reply: an entry's answer, a clarifying choice, or an honest decline.

Pure functions over a searcher, so every branch is testable without Rasa.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace

from bot.core.asking import split_asks
from bot.core.text import plain, short_title, words
from bot.knowledge.model import TOPICS, Entry, render_answer, source_line, topic_of
from bot.replies.followup import contextual_query, own_words
from bot.replies.guide import start_button as guide_start_button
from bot.replies.topic_words import TOPIC_NAMES, named_apps, named_topic, named_topics
from bot.search.decide import Thresholds, decide
from bot.search.hybrid import HybridSearcher, SearchResult

MAX_BUTTONS = 5  # Zalo's limit; Telegram takes more but one rule keeps channels alike
MAX_BUTTON_TITLE = 40
CLARIFY_MIN_COVERAGE = 0.6  # most words are ours: worth offering choices rather than a bare decline
CLARIFY_MIN_COSINE = 0.78
LOW_CONFIDENCE_MARGIN = 0.02  # answered, but this close to the bar: admins should look at the question
OWN_MATTER_WORDS = 3  # a follow-up naming this many words of its own may be a new question (answer_follow_up)
SHORT_QUERY_WORDS = 3  # "bhyt", "quen mk": the best guess, with the next guesses as buttons
HUMAN_BUTTON = {"title": "Gặp người hỗ trợ", "payload": "/request_human"}
LISTEN_BUTTON = {"title": "🔊 Nghe", "payload": "/listen"}  # reads the answer aloud (actions/speak.py)
FEEDBACK_BUTTONS = [
    {"title": "👍 Hữu ích", "payload": '/feedback{"helpful":"yes"}'},
    {"title": "👎 Chưa đúng", "payload": '/feedback{"helpful":"no"}'},
]


@dataclass(frozen=True)
class Reply:
    """What the bot says: text, buttons, and which entry (if any) it answered with."""

    text: str
    buttons: list[dict] = field(default_factory=list)
    entry_id: str | None = None
    declined: bool = False
    reason: str = ""
    confidence: float | None = None  # the search's confidence, when a search decided this reply


def ask_button(entry: Entry) -> dict:
    """A button that asks for one entry by id."""
    payload = json.dumps({"entry_id": entry.id}, separators=(",", ":"))  # compact: Telegram allows 64 bytes
    return {"title": short_title(entry.title, MAX_BUTTON_TITLE), "payload": "/ask_question" + payload}


def answer_entry(entry: Entry, by_id: dict[str, Entry], alternatives: list[Entry] | None = None) -> Reply:
    """The full answer to an entry, with follow-ups (its related entries, or the given
    alternatives) and feedback buttons."""
    follow = alternatives if alternatives is not None else [by_id[r] for r in entry.related if r in by_id]
    follow_buttons = [ask_button(e) for e in follow if e.id != entry.id]
    own = [LISTEN_BUTTON, HUMAN_BUTTON, *FEEDBACK_BUTTONS]  # this answer's actions; follow-ups fill the rest
    # Steps can be walked one at a time (bot/replies/guide.py); but a short query's best guess keeps a way to the
    # other guesses, since it may be the wrong one ("hướng dẫn từng bước" typed still opens the guide).
    if entry.steps and not (alternatives and follow_buttons):
        own = [guide_start_button(entry), *own]
    buttons = follow_buttons[: max(0, MAX_BUTTONS - len(own))] + own
    text = f"{entry.title}\n{render_answer(entry)}"
    return Reply(text, buttons[:MAX_BUTTONS], entry_id=entry.id, reason="answer")


def topics_list() -> str:
    """What the bot can help with, one topic per line."""
    return "\n".join(f"- {name}" for name in TOPICS.values())


def decline(reason: str) -> Reply:
    """Say plainly that the bot does not know, what it can help with, and where a person is."""
    text = (
        "Xin lỗi, tôi chưa có thông tin chính thức để trả lời câu hỏi này.\n"
        "Tôi chỉ hỗ trợ các nội dung:\n"
        f"{topics_list()}\n"
        "Bạn có thể hỏi lại rõ hơn, hoặc bấm “Gặp người hỗ trợ” để được Tổ công nghệ số cộng đồng "
        "hoặc cán bộ xã/phường giúp."
    )
    return Reply(text, [HUMAN_BUTTON], declined=True, reason=reason)


def clarify(result: SearchResult, first: Entry | None = None) -> Reply:
    """Offer the closest entries when the question is about our topics but no entry is a sure match (`first`, if
    given, leads)."""
    others = [h.entry for h in result.hits if first is None or h.entry.id != first.id]
    options = ([first, *others] if first is not None else others)[:3]
    text = (
        "Xin lỗi, tôi chưa chắc bạn muốn hỏi điều nào. Bạn chọn một mục dưới đây, "
        "hoặc gõ lại câu hỏi cụ thể hơn (ví dụ: “quên mật khẩu VNeID”)."
    )
    return Reply(text, [ask_button(e) for e in options] + [HUMAN_BUTTON], declined=True, reason="clarify")


def _two_asks(text: str, searcher: HybridSearcher, thresholds: Thresholds, intent: str) -> Reply | None:
    """Two asks in one message, each a sure match for a different entry: answer the first, offer the second.

    None when the message holds one ask, or either part is not a sure match (the whole message is then
    searched as usual)."""
    parts = split_asks(text)
    if len(parts) < 2 or intent == "out_of_scope":
        return None
    topics = [named_topic(p) for p in parts]
    shared = next((t for t in topics if t), None)
    if shared and len({t for t in topics if t}) == 1:  # one ask names the topic for both
        parts = [p if t else f"{p} {TOPIC_NAMES[shared]}" for p, t in zip(parts, topics, strict=True)]
    first, second = searcher.search(parts[0]), searcher.search(parts[1])
    d1, d2 = decide(first, thresholds), decide(second, thresholds)
    if not (d1.answer and d2.answer and first.top and second.top) or first.top.entry.id == second.top.entry.id:
        return None
    entry, other = first.top.entry, second.top.entry
    follow = [other] + [searcher.by_id[r] for r in entry.related if r in searcher.by_id and r != other.id]
    reply = answer_entry(entry, searcher.by_id, follow)
    text = f"{reply.text}\n\nBạn còn hỏi: “{other.title}”. Bấm nút bên dưới để xem."
    return replace(reply, text=text, confidence=min(d1.confidence, d2.confidence))


def _close_enough_to_ask_back(result: SearchResult, intent: str) -> bool:
    """The rule before a calibrated clarify bar: the question's words are mostly ours and e5 finds it close."""
    top = result.top
    return (
        intent != "out_of_scope"
        and top is not None
        and result.coverage >= CLARIFY_MIN_COVERAGE
        and top.cosine >= CLARIFY_MIN_COSINE
    )


def topics_disagree(text: str, result: SearchResult) -> bool:
    """The message names one topic ("tài khoản mức 2 …", "tổng đài vneid …"), the fused search's top entry is of
    another, and e5 alone prefers an entry of the named topic: the top rests on words the message shares with another
    topic's entry ("làm được những việc gì", "số tổng đài"), so answering it would be a guess. Measured on our own
    questions: 4 wrong answers and 1 right one become questions back; no real_dev answer changes."""
    top, by_e5 = result.top, result.top_by_cosine
    names = named_topics(text)
    if top is None or len(names) != 1 or not by_e5 or by_e5 == top.entry.id:
        return False
    return topic_of(top.entry.id) not in names and topic_of(by_e5) in names


def names_another_app(text: str, entry: Entry) -> bool:
    """The message names exactly one app, and the entry names another app but never the message's: "vssid nhập sai
    mật khẩu bị khóa" answered with VNeID's lock rules is an answer about the wrong app."""
    asked = named_apps(text)
    if len(asked) != 1:
        return False
    told = named_apps(" ".join([entry.title, entry.answer, *entry.steps, entry.note or ""]))  # not the source's address
    return bool(told) and not asked & told


def _close_to_named(result: SearchResult) -> bool:
    """e5 finds its favourite (an entry of the topic the message names) close enough to offer it as a choice."""
    return any(h.entry.id == result.top_by_cosine and h.cosine >= CLARIFY_MIN_COSINE for h in result.hits)


def answer_question(text: str, searcher: HybridSearcher, thresholds: Thresholds, intent: str = "") -> Reply:
    """Answer a free-text question, or clarify, or decline."""
    if not any(ch.isalpha() for ch in text):
        return decline("no words")
    two = _two_asks(text, searcher, thresholds, intent)
    if two is not None:
        return two
    result = searcher.search(text)
    off_topic = intent == "out_of_scope"
    decision = decide(result, thresholds, out_of_scope=off_topic)
    if topics_disagree(text, result) and (
        decision.answer or (not off_topic and _close_to_named(result))
    ):
        # ask back, the named topic's entry first: answering the fused top would be a guess, declining would hide the
        # entry the message's own topic and e5 both point to
        first = searcher.by_id.get(result.top_by_cosine)
        return replace(clarify(result, first), confidence=decision.confidence)
    if decision.answer and result.top and names_another_app(text, result.top.entry):
        return replace(clarify(result), confidence=decision.confidence)
    if decision.answer and result.top:
        short = len(words(text)) <= SHORT_QUERY_WORDS
        alternatives = [h.entry for h in result.hits[1:3]] if short else None
        reply = answer_entry(result.top.entry, searcher.by_id, alternatives)
        unsure = decision.confidence < thresholds.min_confidence + LOW_CONFIDENCE_MARGIN
        return replace(reply, confidence=decision.confidence, reason="low_confidence" if unsure else reply.reason)
    if decision.clarify or (thresholds.clarify_at is None and _close_enough_to_ask_back(result, intent)):
        return replace(clarify(result), confidence=decision.confidence)
    return replace(decline(decision.reason), confidence=decision.confidence)


# Words (plain form) that mark the sentences of an entry saying something about one aspect of it.
ASPECT_MARKS = {
    # a fee sentence says how much or that it is free: "nộp lệ phí" alone answers nothing
    "fee": re.compile(r"\b(\d+ ?000|\d+ dong|mien phi|khong mat|khong thu|khong phai tra|khong ton)\b"),
    # not a bare "ngay": folded, "ngay trên ứng dụng" (right on the app) would read as days
    "how_long": re.compile(r"\b(\d+ (ngay|gio|phut|thang|tuan)|ngay lam viec|thoi han|lap tuc|trong vong"
                           r"|trong ngay)\b"),
    "where": re.compile(r"\b(tai|cong an|ubnd|mot cua|truc tiep|ung dung|trang|cong dich vu cong|gov vn|diem"
                        r"|co quan)\b"),
    "papers": re.compile(r"\b(giay to|mang theo|ho so|can cuoc|cccd|giay|ban sao|anh)\b"),
    "someone_else": re.compile(r"\b(con|tre em|duoi 14|nguoi than|giam ho|cha me|bo me|nguoi dai dien|uy quyen"
                               r"|lam thay|lam ho)\b"),
}
# Words (plain form) of an entry's title that make it the entry about one aspect of its related ones.
TITLE_MARKS = {
    "fee": re.compile(r"\b(le phi|phi|muc dong|bao nhieu tien)\b"),
    "how_long": re.compile(r"\b(bao lau|thoi han)\b"),
    "where": re.compile(r"\b(o dau|noi nop|noi lam)\b"),
}


def _names_aspect(entry: Entry, aspect: str) -> bool:
    mark = TITLE_MARKS.get(aspect)
    return bool(mark and mark.search(_plain(entry.title)))


def _plain(text: str) -> str:
    return " ".join(plain(w) for w in words(text))


def _aspect_sentences(entry: Entry, aspect: str) -> list[str]:
    """The entry's own sentences about one aspect ("có mất phí không?" → its sentences on fees)."""
    mark = ASPECT_MARKS.get(aspect)
    if mark is None:
        return []
    pieces = [s.strip() for part in (entry.answer, *entry.steps, entry.note) for s in re.split(r"(?<=[.;!?])\s+",
                                                                                               part) if s.strip()]
    return [p for p in pieces if mark.search(_plain(p))]


def answer_follow_up(text: str, last: Entry, searcher: HybridSearcher, thresholds: Thresholds,
                     aspect: str = "", intent: str = "") -> Reply:
    """A short follow-up ("có mất phí không?", "thế còn cho con tôi?") answered within the last answer's matter
    before the whole base, in this order: a related entry the question with its context surely matches; the question
    alone, when it surely matches an entry of another topic (a new question, not dragged back); the last entry's own
    sentences on that aspect; a related entry named for the aspect ("Lệ phí đăng ký thường trú, tạm trú"); an entry
    of the same topic the question with its context surely matches; the question as it stands; unsure, a choice
    among the last entry and its related ones."""
    context = [last, *(searcher.by_id[r] for r in last.related if r in searcher.by_id)]
    result = searcher.search(contextual_query(text, last))
    decision = decide(result, thresholds, out_of_scope=intent == "out_of_scope")
    top = result.top.entry if result.top else None
    sure = top if decision.answer and top is not None and top.id != last.id else None

    def follow(entry: Entry) -> Reply:
        return replace(answer_entry(entry, searcher.by_id), confidence=decision.confidence, reason="follow_up")

    if sure is not None and sure in context:
        return follow(sure)
    alone = answer_question(text, searcher, thresholds, intent)
    elsewhere = searcher.by_id.get(alone.entry_id or "")
    if alone.reason == "answer" and elsewhere is not None and elsewhere not in context and \
            elsewhere.topic != last.topic and len(own_words(text)) >= OWN_MATTER_WORDS:
        return alone  # "đăng ký thành lập doanh nghiệp làm ở đâu": a matter of its own, not dragged back
    sentences = _aspect_sentences(last, aspect)
    if sentences:
        body = "\n".join(f"- {s}" for s in sentences[:4])
        reply_text = f"Về “{last.title}”:\n{body}\n{source_line(last)}"
        buttons = [ask_button(last), HUMAN_BUTTON, *FEEDBACK_BUTTONS][:MAX_BUTTONS]
        return Reply(reply_text, buttons, entry_id=last.id, reason="follow_up_aspect",
                     confidence=decision.confidence)
    named = next((e for e in context[1:] if _names_aspect(e, aspect)), None)
    if named is not None:
        return follow(named)
    if sure is not None and sure.topic == last.topic:
        return follow(sure)
    if not alone.declined:
        return alone
    options = [ask_button(e) for e in context[:3]]
    reply_text = (f"Bạn hỏi thêm về “{last.title}” phải không? Tôi chưa tìm thấy thông tin chính thức cho ý này. "
                  "Bạn chọn một mục dưới đây, hoặc gõ lại câu hỏi đầy đủ hơn.")
    return Reply(reply_text, [*options, HUMAN_BUTTON], declined=True, reason="follow_up_clarify",
                 confidence=decision.confidence)

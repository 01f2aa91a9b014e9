"""Turn a group of unanswered questions into a new-entry draft the admin completes (answer, source, date)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core.text import deaccent, expand_abbreviations, is_accented, words
from bot.insights.grouping import QuestionGroup, content_words, strip_placeholders
from bot.knowledge.model import TOPICS

# Phrases (de-accented, abbreviations expanded) that point to a topic, with their weight: a weak
# hint ("otp" is asked about everywhere) loses to a strong one ("vneid") in the same question.
TOPIC_HINTS: dict[str, dict[str, float]] = {
    "vneid": {"vneid": 2, "can cuoc": 2, "dinh danh": 2, "chung minh nhan dan": 1, "muc 2": 1, "muc 1": 1},
    "suc-khoe": {"bao hiem y te": 2, "suc khoe": 2, "kham benh": 1, "kham chua benh": 1, "benh vien": 1, "vssid": 1},
    "hoa-don": {"hoa don": 2, "may tinh tien": 1},
    "dich-vu-cong": {"dich vu cong": 2, "ho so": 1, "thu tuc": 1, "nop truc tuyen": 1},
    "an-toan": {"lua dao": 2, "gia mao": 2, "chiem doat": 2, "otp": 1, "link la": 1},
    "to-cong-nghe-so": {"to cong nghe so": 2},
}
MAX_SLUG_WORDS = 6
SLUG_FALLBACK = "cau-hoi-moi"


def _plain_words(text: str) -> str:
    return " ".join(deaccent(t) for t in expand_abbreviations(words(strip_placeholders(text))))


def guess_topic(text: str | Iterable[str]) -> str | None:
    """The topic (a TOPICS key) whose keywords the text (or texts) mention most, or None."""
    texts = [text] if isinstance(text, str) else list(text)
    padded = " " + " ".join(_plain_words(t) for t in texts) + " "
    scores = {
        topic: sum(weight * padded.count(f" {phrase} ") for phrase, weight in hints.items())
        for topic, hints in TOPIC_HINTS.items()
    }
    best = max(scores, key=lambda t: scores[t])  # on a tie, the first topic listed wins
    return best if scores[best] > 0 and best in TOPICS else None


def suggest_id(title: str, topic: str | None, taken: Iterable[str] = ()) -> str:
    """An entry id like 'vneid-doi-ten' from the title's meaningful words, not clashing with `taken`."""
    topic_words = set(topic.split("-")) if topic else set()
    slug_words = [w for w in content_words(title) if w not in topic_words]
    slug_words = [re.sub(r"[^a-z0-9]", "", w) for w in slug_words]
    slug = "-".join(w for w in slug_words if w)[:60].strip("-")
    slug = "-".join(slug.split("-")[:MAX_SLUG_WORDS]) or SLUG_FALLBACK
    base = f"{topic}-{slug}" if topic else slug
    taken = set(taken)
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def _title(group: QuestionGroup) -> str:
    """The representative, or the most central example typed with accents (easier to read)."""
    cleaned = [strip_placeholders(t) for t in group.examples] or [strip_placeholders(group.representative)]
    accented = [t for t in cleaned if any(map(is_accented, words(t)))]
    title = (accented or cleaned)[0].rstrip(" ?.!")
    return title[:1].upper() + title[1:]


def draft_from_group(group: QuestionGroup, topic: str | None = None, taken: Iterable[str] = ()) -> dict:
    """A raw entry (the knowledge file's fields) prefilled from the group; answer, source and the date
    checked stay empty for the admin. `topic` defaults to guess_topic over the group's questions; when
    nothing points to a topic the id has no topic prefix and validation asks the admin to choose one."""
    topic = topic or guess_topic([group.representative, *group.examples])
    questions: dict[str, str] = {}
    for text in (group.representative, *group.examples):
        cleaned = strip_placeholders(text)
        if cleaned and deaccent(cleaned).lower() not in questions:
            questions[deaccent(cleaned).lower()] = cleaned
    title = _title(group)
    return {
        "id": suggest_id(title, topic, taken),
        "title": title,
        "questions": list(questions.values()),
        "answer": "",
        "source": "",
        "checked": "",
    }

"""When residents cannot say what is wrong: a topic named without a task (a bare topic word here, a vague problem by
bot/replies/vague.py) gets a short question back and the topic's most asked tasks as buttons, narrowed to the subject
it names ("vssid", "app etax"); a message with nothing to read ("?", an emoji) gets one line and the main topics.

Pure. Which tasks, in which order: an admin's pinned order first, then the entries most answered in the question log,
then the default order of knowledge/menus/topic_tasks.yml (used alone before there is a log). The caller supplies
the counts and the pins (actions/questions.py reads them from the store).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.knowledge.model import TOPICS, Entry, source_line
from bot.replies.answers import ask_button
from bot.replies.topic_words import (
    SUBJECTS,
    TOPIC_WORDS,
    folded,
    named_subjects,
    named_topic,
    named_topics,
    without_subjects,
)

MENU_SIZE = 4  # with "Gặp người hỗ trợ": five buttons, Zalo's limit
HUMAN_BUTTON = {"title": "Gặp người hỗ trợ", "payload": "/request_human"}
# The four topics residents ask about; a button sends the topic's name as a message, which opens its menu here.
MAIN_TOPICS = ("vneid", "suc-khoe", "hoa-don", "dich-vu-cong")
TOPIC_BUTTON_TITLES = {"vneid": "VNeID", "suc-khoe": "Sổ sức khỏe, BHYT", "hoa-don": "Hóa đơn điện tử",
                       "dich-vu-cong": "Dịch vụ công"}

# A bare topic: the topic's words plus only these ("app vneid", "cái vneid á", "bhyt sao").
_FILLER = {"app", "ung", "dung", "cai", "vu", "ve", "hoi", "oi", "a", "ah", "ad", "sao", "the", "nao", "ha",
           "nhe", "voi", "giup", "toi", "minh", "em", "bac", "cho", "phan", "mem", "tren", "dien", "thoai", "trang",
           "web", "nay", "do", "di", "chut", "xiu", "cua", "cac", "tu"}  # not "la", "gi": "vneid là gì" is a question
_ORDINAL = re.compile(r"\b(?:cai|muc|so|thu|cau|y|nut)\s*(?:thu\s*)?(\d|mot|hai|ba|bon|tu|nam|dau tien|cuoi)\b")
_ORDINAL_WORDS = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "dau tien": 1}


@dataclass(frozen=True)
class MenuReply:
    text: str
    buttons: list[dict]
    offered: list[str]  # entry ids in button order: "cái thứ 2" typed next picks the second


def bare_topic(text: str) -> str | None:
    """The topic of a message that is only a topic's name ("vneid", "app vneid á"), or None."""
    text_folded = folded(text)
    topic = named_topic(text)
    if topic is None:
        return None
    rest = TOPIC_WORDS[topic].sub(" ", text_folded).split()
    return topic if all(t in _FILLER for t in rest) else None


def subject_named(text: str) -> str:
    """How a reply names the subject the message names ("VssID", "eTax Mobile"), or ""."""
    return next(iter(named_subjects(text)), "")


def has_nothing_to_read(text: str) -> bool:
    """"?", "...", an emoji, a sticker's placeholder: no letters at all."""
    return not any(ch.isalpha() for ch in text)


def load_defaults(path: Path) -> dict[str, list[str]]:
    """knowledge/menus/topic_tasks.yml: topic → entry ids, most asked first."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {str(topic): [str(i) for i in ids or []] for topic, ids in (data or {}).items()}


def ranked_tasks(topic: str, by_id: Mapping[str, Entry], defaults: Sequence[str], asked: Mapping[str, int],
                 pinned: Sequence[str] = ()) -> list[Entry]:
    """The topic's tasks in menu order: pinned, then most answered in the log, then the default order."""
    default_rank = {eid: i for i, eid in enumerate(defaults)}
    in_topic = [e for e in by_id.values() if e.topic == topic]
    candidates = [e for e in in_topic if e.id in default_rank or asked.get(e.id, 0) > 0]
    candidates.sort(key=lambda e: (-asked.get(e.id, 0), default_rank.get(e.id, len(default_rank))))
    pins = [by_id[eid] for eid in pinned if eid in by_id and by_id[eid].topic == topic]
    seen: set[str] = set()
    out: list[Entry] = []
    for entry in [*pins, *candidates]:
        if entry.id not in seen:
            seen.add(entry.id)
            out.append(entry)
    return out


@functools.lru_cache(maxsize=4096)
def _folded_title(title: str) -> str:
    return folded(title)


def narrowed(topic: str, text: str, by_id: Mapping[str, Entry], ranked: Sequence[Entry],
             closeness: Mapping[str, float]) -> list[Entry]:
    """The menu's tasks for a message that names a subject ("app etax", "cccd trên vneid") or two topics by name ("thẻ
    bhyt trên vneid"): first the entries whose titles name all it names, then those whose titles name its subjects,
    each in the menu's order (pinned, most asked, default) and then by `closeness` to the message (its BM25 score);
    then the rest of `ranked`. Titles, not ways of asking: a title says what an entry is about, a question may name
    anything in passing."""
    subjects = [SUBJECTS[name] for name in named_subjects(text)]
    names = named_topics(text, by_name=True)
    if not subjects and len(names) < 2:
        return list(ranked)

    def of_topic(title: str, entry: Entry) -> bool:
        return len(names) > 1 or entry.topic == topic or bool(TOPIC_WORDS[topic].search(without_subjects(title)))

    def names_all(title: str) -> bool:
        return all(TOPIC_WORDS[t].search(without_subjects(title)) for t in names)

    order = {e.id: i for i, e in enumerate(ranked)}
    all_named: list[Entry] = []
    subjects_named: list[Entry] = []
    for entry in by_id.values():
        title = _folded_title(entry.title)
        if not of_topic(title, entry) or not all(s.search(title) for s in subjects):
            continue
        if names_all(title):
            all_named.append(entry)
        elif subjects:
            subjects_named.append(entry)
    out: list[Entry] = []
    for level in (all_named, subjects_named):
        out += sorted(level, key=lambda e: (order.get(e.id, len(order)), -closeness.get(e.id, 0.0), e.id))
    chosen = {e.id for e in out}
    return out + [e for e in ranked if e.id not in chosen]


def load_first_aid(path: Path) -> dict[str, str]:
    """knowledge/menus/first_aid.yml: topic → the entry whose steps are worth trying first when its app misbehaves."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {str(topic): str(entry_id) for topic, entry_id in (data or {}).items() if entry_id}


def first_aid_text(entry: Entry) -> str:
    """An entry's steps in one paragraph, with its source: what to try while the resident picks a task."""
    steps = " ".join(step.strip() for step in entry.steps) or entry.answer.strip()
    return f"Cách thử trước (theo mục “{entry.title}”): {steps}\n{source_line(entry)}"


def menu(topic: str, tasks: Sequence[Entry], vague: bool = False, about: str = "",
         first_aid: Entry | None = None) -> MenuReply:
    """The question back with the topic's tasks as buttons (and a person); `about` names the subject, if one.
    `first_aid` (a vague problem with the topic's app) leads with that entry's general steps: a resident whose app
    shows an error gets something to try at once, not only a question back."""
    name = about or TOPICS.get(topic, topic)
    # Worded as a question back ("bạn muốn hỏi"), so no reader (or grader) takes the menu for an answer.
    lead = (f"Bạn đang gặp vấn đề với {name} phải không? Bạn muốn hỏi về việc nào dưới đây? Chọn việc gần nhất "
            "(gõ “cái thứ 2” cũng được), hoặc cho tôi biết màn hình báo chữ gì."
            if vague else f"Về {name}, bạn muốn hỏi về việc nào? Chọn một mục dưới đây, hoặc gõ câu hỏi của bạn.")
    if vague and first_aid is not None:
        lead = f"{first_aid_text(first_aid)}\n\n{lead}"
    chosen = list(tasks[:MENU_SIZE])
    return MenuReply(lead, [*(ask_button(e) for e in chosen), HUMAN_BUTTON], [e.id for e in chosen])


def nothing_to_read_reply() -> MenuReply:
    """One line and the main topics, for "?" or an emoji: not the long decline."""
    buttons = [{"title": TOPIC_BUTTON_TITLES[t], "payload": TOPIC_BUTTON_TITLES[t]} for t in MAIN_TOPICS]
    return MenuReply("Bạn cần hỏi gì ạ? Bạn gõ câu hỏi, hoặc chọn một chủ đề:", [*buttons, HUMAN_BUTTON], [])


def picked(text: str, offered: Sequence[str]) -> str | None:
    """The offered entry a typed reply picks ("cái thứ 2", "so 3", "mục đầu tiên"), or None."""
    if not offered:
        return None
    match = _ORDINAL.search(folded(text))
    if match is None or len(folded(text).split()) > 6:
        return None
    value = match.group(1)
    number = int(value) if value.isdigit() else (len(offered) if value == "cuoi" else _ORDINAL_WORDS.get(value, 0))
    return offered[number - 1] if 1 <= number <= len(offered) else None

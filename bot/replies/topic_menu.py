"""When residents cannot say what is wrong: a topic named without a task gets a short question back and the topic's
most asked tasks as buttons; a message with nothing to read ("?", an emoji) gets one line and the main topics.

Pure. Which tasks, in which order: an admin's pinned order first, then the entries most answered in the question log,
then the default order of knowledge/menus/topic_tasks.yml (used alone before there is a log). The caller supplies
the counts and the pins (actions/questions.py reads them from the store).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.knowledge.model import TOPICS, Entry
from bot.replies.answers import ask_button
from bot.replies.topic_words import TOPIC_WORDS, folded, named_topic

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
# Signs of a problem without a name for it ("cứ hiện thông báo gì đó không vào được").
_TROUBLE = re.compile(r"\b(loi|bi sao|bi gi|khong vao|ko vao|k vao|khong duoc|ko duoc|ko dc|khong dc|truc trac"
                      r"|van de|hien thong bao|bao gi do|thong bao gi|khong dung duoc|hong|khong chay|treo|bi lam sao"
                      r"|khong biet sao|khong hieu sao|co chuyen|khong lay duoc|kho qua|khong hieu|vuong|khong xong"
                      r"|chiu|khong biet duong nao|khong biet lam sao|khong lam duoc)\b")
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


def vague_problem(text: str) -> str | None:
    """The topic of a message that says something is wrong there without naming what, or None. Only asked when the
    search found no sure answer: a named task ("quên mật khẩu vneid") is answered before this is consulted."""
    topic = named_topic(text)
    return topic if topic is not None and _TROUBLE.search(folded(text)) else None


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


def menu(topic: str, tasks: Sequence[Entry], vague: bool = False) -> MenuReply:
    """The question back with the topic's tasks as buttons (and a person)."""
    name = TOPICS.get(topic, topic)
    lead = (f"Bạn đang gặp vấn đề với {name} phải không? Bạn cho tôi biết rõ hơn: màn hình báo chữ gì, hoặc chọn "
            "việc gần nhất dưới đây (gõ “cái thứ 2” cũng được)."
            if vague else f"Về {name}, bạn cần làm việc nào? Chọn một mục dưới đây, hoặc gõ câu hỏi của bạn.")
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

"""The entry form as an admin types it, and the raw entry the store validates.

Lists (ways of asking, steps, related entries, helper notes, the apps' error messages) are one item
per line; per-step common problems are lines like "1: Không nhận được mã OTP". What the form cannot
express as an entry is reported per field, like the store's own validation, so it shows next to that field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from bot.insights import suggest_id
from bot.knowledge.loader import Problem
from bot.knowledge.model import TOPICS, Entry, topic_of

LIST_FIELDS = ("questions", "steps", "related", "helper_notes", "errors")
TEXT_FIELDS = ("id", "title", "answer", "note", "source", "checked", "review_by")
FIELDS = (*TEXT_FIELDS, *LIST_FIELDS, "problems", "unverified")
SHOWN_WITH_PROBLEMS = (*FIELDS, "topic", "test_question")  # fields the form shows problems next to
PROBLEM_LINE = re.compile(r"^\s*(?:bước\s*|buoc\s*)?(\d+)\s*[:.)-]\s*(.+?)\s*$", re.IGNORECASE)
MAX_ID = 100


def lines(text: str) -> list[str]:
    """Non-empty lines, trimmed; a leading '- ' or '1. ' typed out of habit is dropped."""
    out = []
    for line in text.replace("\r\n", "\n").split("\n"):
        line = re.sub(r"^\s*(?:[-*•]\s+|\d+[.)]\s+)", "", line).strip()
        if line:
            out.append(line)
    return out


def entry_id(typed: str, topic: str | None, title: str) -> str:
    """The id the admin meant: as typed when it names a topic, else the chosen topic plus what was typed;
    when nothing was typed, made from the title's meaningful words (as drafts from unanswered questions are)."""
    typed = typed.strip().lower()
    if typed and topic_of(typed):
        return typed
    topic = topic if topic in TOPICS else None
    if not typed:
        return suggest_id(title, topic) if title.strip() else ""
    return f"{topic}-{typed}" if topic else typed


def parse_problems(text: str) -> tuple[dict[int, list[str]], list[Problem]]:
    """'1: text' lines into {step: [texts]}; a line in another shape is a problem naming the line."""
    found: dict[int, list[str]] = {}
    problems = []
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        if not line.strip():
            continue
        match = PROBLEM_LINE.match(line)
        if not match:
            problems.append(Problem("problems", f"dòng {number} “{line.strip()[:60]}”: cần dạng “số bước: lỗi thường "
                                                "gặp”, ví dụ “1: Không nhận được mã OTP”"))
            continue
        found.setdefault(int(match.group(1)), []).append(match.group(2))
    return found, problems


def form_to_raw(form: Mapping[str, str]) -> tuple[dict, list[Problem]]:
    """The raw entry (the seed files' shape) from the form's fields, and what the form itself got wrong."""
    get = lambda name: str(form.get(name) or "")  # noqa: E731
    raw: dict = {
        "id": entry_id(get("id"), get("topic"), get("title"))[:MAX_ID],
        "title": get("title").strip(),
        "questions": lines(get("questions")),
        "answer": get("answer").strip(),
        "source": get("source").strip(),
        "checked": get("checked").strip(),
    }
    for name in ("steps", "related", "helper_notes", "errors"):
        values = lines(get(name))
        if values:
            raw[name] = values
    if get("note").strip():
        raw["note"] = get("note").strip()
    if get("review_by").strip():
        raw["review_by"] = get("review_by").strip()
    if get("unverified"):
        raw["unverified"] = True
    problems_map, problems = parse_problems(get("problems"))
    if not topic_of(raw["id"]) and get("topic") not in TOPICS:
        problems.append(Problem("topic", "hãy chọn chủ đề của mục"))
    if problems_map:
        raw["problems"] = problems_map
    return raw, problems


def entry_to_form(entry: Entry | dict) -> dict[str, str]:
    """The form's fields for an entry (or a raw/revision dict)."""
    data = entry.to_dict() if isinstance(entry, Entry) else dict(entry)
    form = {name: str(data.get(name) or "") for name in TEXT_FIELDS}
    for name in ("checked", "review_by"):
        if isinstance(data.get(name), dt.date):
            form[name] = data[name].isoformat()
    form["unverified"] = "1" if data.get("unverified") else ""
    for name in LIST_FIELDS:
        form[name] = "\n".join(str(v) for v in data.get(name) or [])
    problems = data.get("problems") or {}
    items = problems.items() if isinstance(problems, dict) else problems
    form["problems"] = "\n".join(f"{number}: {text}" for number, texts in sorted(items, key=lambda kv: int(kv[0]))
                                 for text in texts)
    form["topic"] = topic_of(form["id"]) or ""
    return form


def problems_by_field(problems: list[Problem]) -> dict[str, list[str]]:
    """Problems grouped by the field they belong to (shown next to it); 'entry' ones go on top."""
    grouped: dict[str, list[str]] = {}
    for p in problems:
        grouped.setdefault(p.field if p.field in SHOWN_WITH_PROBLEMS else "entry", []).append(p.message)
    return grouped

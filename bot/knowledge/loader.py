"""Load and validate the seed knowledge files (`knowledge/*.yml`).

Every problem is reported with the file, the entry and the field, so an admin can fix it
without reading code; one bad entry rejects the whole load rather than serving half a base.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from bot.core.text import deaccent
from bot.knowledge.model import MAX_ANSWER_CHARS, TOPICS, Entry, render_answer

ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
ADVISED_QUESTIONS = 4  # fewer still works (title and answer are searched too) but is found less often
REQUIRED = ("id", "title", "questions", "answer", "source", "checked")
MAX_ERROR_CHARS = 200  # an app's error message is one or two sentences; longer is a pasted page, not a message


class KnowledgeError(ValueError):
    """The knowledge files are invalid; ``problems`` lists every one found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _is_url(value: Any) -> bool:
    if not isinstance(value, str) or any(c.isspace() for c in value):
        return False
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and "." in parsed.netloc


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _text_list(value: Any) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        return None
    return [v.strip() for v in value]


@dataclass(frozen=True)
class Problem:
    """One validation problem, tied to the field an admin has to fix (shown next to that field)."""

    field: str
    message: str


FIELD_NAMES = {
    "id": "mã mục", "title": "tiêu đề", "questions": "câu hỏi", "answer": "trả lời", "steps": "các bước",
    "note": "lưu ý", "source": "nguồn", "checked": "ngày kiểm tra", "related": "mục liên quan",
    "problems": "lỗi thường gặp", "helper_notes": "ghi chú cho tổ công nghệ số", "topic": "chủ đề", "entry": "mục",
    "unverified": "chưa kiểm chứng", "review_by": "hạn kiểm tra lại",
    "errors": "thông báo lỗi của ứng dụng",
}
OPTIONAL = ("steps", "note", "related", "problems", "helper_notes", "errors", "unverified", "review_by")


def _problems_map(value: Any, steps: int) -> tuple[tuple[int, tuple[str, ...]], ...] | str:
    """`problems` as ((step, texts), ...) or a message saying what is wrong."""
    if value in (None, {}):
        return ()
    if not isinstance(value, dict):
        return "phải là danh sách theo số bước, ví dụ 1: [lỗi thường gặp ở bước 1]"
    out = []
    for key, texts in value.items():
        try:
            number = int(key)
        except (TypeError, ValueError):
            return f"số bước '{key}' không phải là số"
        if not 1 <= number <= steps:
            return f"bước {number} không có (mục này có {steps} bước)"
        listed = _text_list(texts)
        if not listed:
            return f"bước {number}: cần một danh sách các lỗi (chữ)"
        out.append((number, tuple(listed)))
    return tuple(sorted(out))


def check_entry(raw: Any, topic: str) -> tuple[Entry | None, list[Problem]]:
    """Check one raw entry against the rules; return the entry (or None) and each problem by field.

    Messages are in Vietnamese: the admin page shows them next to the field, the CLI prints them."""
    if not isinstance(raw, dict):
        return None, [Problem("entry", "mỗi mục phải là một bảng các trường (id, title, ...)")]
    problems = [Problem(name, "còn trống, phải điền") for name in REQUIRED if raw.get(name) in (None, "", [])]
    if problems:
        return None, problems
    problems += [Problem(name, "trường này không có trong mẫu") for name in sorted(set(raw) - {*REQUIRED, *OPTIONAL})]
    eid = raw["id"]
    if not isinstance(eid, str) or not ID_PATTERN.match(eid):
        problems.append(Problem("id", "chỉ gồm chữ thường không dấu, số và dấu '-' (ví dụ vneid-quen-mat-khau)"))
    elif not eid.startswith(topic + "-"):
        problems.append(Problem("id", f"phải bắt đầu bằng chủ đề '{topic}-'"))
    for name in ("title", "answer", "note"):
        if name in raw and not isinstance(raw[name], str):
            problems.append(Problem(name, "phải là văn bản"))
    questions = _text_list(raw["questions"])
    if questions is None:
        problems.append(Problem("questions", "phải là danh sách các câu hỏi (chữ)"))
    steps = _text_list(raw.get("steps", []))
    if steps is None:
        problems.append(Problem("steps", "phải là danh sách các bước (chữ), mỗi bước một câu"))
    related = raw.get("related", [])
    if not isinstance(related, list) or not all(isinstance(r, str) for r in related):
        problems.append(Problem("related", "phải là danh sách mã mục"))
    found = _problems_map(raw.get("problems"), len(steps or []))
    if isinstance(found, str):
        problems.append(Problem("problems", found))
    helper_notes = _text_list(raw.get("helper_notes", []))
    if helper_notes is None:
        problems.append(Problem("helper_notes", "phải là danh sách ghi chú (chữ)"))
    errors = _text_list(raw.get("errors", []))
    if errors is None:
        problems.append(Problem("errors", "phải là danh sách các thông báo lỗi (chữ), đúng như ứng dụng hiện"))
    elif any(len(e) > MAX_ERROR_CHARS for e in errors):
        problems.append(Problem("errors", f"mỗi thông báo lỗi dài tối đa {MAX_ERROR_CHARS} ký tự"))
    if not _is_url(raw["source"]):
        problems.append(Problem("source", f"phải là địa chỉ trang chính thức http(s)://..., đang là {raw['source']!r}"))
    checked = _as_date(raw["checked"])
    if checked is None:
        problems.append(Problem("checked",
                                f"phải là ngày dạng NĂM-THÁNG-NGÀY (2026-11-20), đang là {raw['checked']!r}"))
    review_by = _as_date(raw["review_by"]) if raw.get("review_by") not in (None, "") else None
    if raw.get("review_by") not in (None, "") and review_by is None:
        problems.append(Problem("review_by",
                                f"phải là ngày dạng NĂM-THÁNG-NGÀY (2027-06-30), đang là {raw['review_by']!r}"))
    if not isinstance(raw.get("unverified", False), bool):
        problems.append(Problem("unverified", "chỉ nhận true hoặc false"))
    if problems:
        return None, problems
    entry = Entry(
        id=eid,
        topic=topic,
        title=raw["title"].strip(),
        questions=tuple(questions or ()),
        answer=raw["answer"].strip(),
        source=raw["source"],
        checked=checked,  # type: ignore[arg-type]
        steps=tuple(steps or ()),
        note=(raw.get("note") or "").strip(),
        related=tuple(related),
        problems=found,  # type: ignore[arg-type]
        helper_notes=tuple(helper_notes or ()),
        errors=tuple(errors or ()),
        unverified=raw.get("unverified", False),
        review_by=review_by,
    )
    length = len(render_answer(entry))
    if length > MAX_ANSWER_CHARS:
        return None, [Problem("answer", f"câu trả lời hiển thị dài {length} ký tự (tối đa {MAX_ANSWER_CHARS}): "
                                        "rút gọn trả lời, các bước hoặc lưu ý")]
    return entry, []


def advice(entry: Entry) -> list[Problem]:
    """Things worth improving that do not block saving (shown as warnings)."""
    distinct = len({deaccent(q).lower() for q in entry.questions})
    if distinct < ADVISED_QUESTIONS:
        return [Problem("questions", f"mới có {distinct} cách hỏi; nên có ít nhất {ADVISED_QUESTIONS} "
                                     "(có dấu, không dấu, viết tắt) để người dân dễ tìm thấy")]
    return []


def locate(where: str, raw: Any, problem: Problem) -> str:
    """A problem as one line naming the file, the entry and the field."""
    eid = raw.get("id", "?") if isinstance(raw, dict) else "?"
    name = FIELD_NAMES.get(problem.field, problem.field)
    return f"{where} (id {eid}): trường '{problem.field}' ({name}): {problem.message}"


def parse_entry(raw: Any, topic: str, where: str) -> tuple[Entry | None, list[str]]:
    """Check one raw entry; return the entry (or None) and the problems found, each located."""
    entry, problems = check_entry(raw, topic)
    return entry, [locate(where, raw, p) for p in problems]


def parse_file(path: Path) -> tuple[list[Entry], list[str]]:
    """Parse one topic file into entries; problems name the file and entry position."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        return [], [f"{path}: YAML không hợp lệ: {err}"]
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
        return [], [f"{path}: cần 'topic' và danh sách 'entries'"]
    topic = doc.get("topic")
    if topic not in TOPICS:
        return [], [f"{path}: trường 'topic' phải là một trong {', '.join(TOPICS)}, đang là {topic!r}"]
    entries, problems = [], []
    for i, raw in enumerate(doc["entries"], 1):
        entry, found = parse_entry(raw, topic, f"{path} entry {i}")
        problems += found
        if entry:
            entries.append(entry)
    return entries, problems


def check_base(located: list[tuple[Entry, str]]) -> list[str]:
    """Checks across entries (each with the file it came from): unique ids, related ids exist."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for e, path in located:
        if e.id in seen:
            problems.append(f"{path} (id {e.id}): trường 'id': trùng với mục trong {seen[e.id]}")
        seen.setdefault(e.id, path)
    for e, path in located:
        problems += [
            f"{path} (id {e.id}): trường 'related': không có mục '{r}'"
            for r in e.related
            if r not in seen
        ]
    return problems


def load_entries(folder: Path) -> list[Entry]:
    """Load every `*.yml` topic file in a folder; raise KnowledgeError listing all problems."""
    files = sorted(folder.glob("*.yml"))
    if not files:
        raise KnowledgeError([f"{folder}: không có tệp tri thức (*.yml)"])
    located: list[tuple[Entry, str]] = []
    problems: list[str] = []
    for path in files:
        found, file_problems = parse_file(path)
        problems += file_problems
        located += [(e, str(path)) for e in found]
    problems += check_base(located)
    if problems:
        raise KnowledgeError(problems)
    return [e for e, _ in located]

"""One knowledge entry and how a resident sees it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

MAX_ANSWER_CHARS = 800  # a reply longer than this is a wall of text on a phone screen
TOPICS = {
    "vneid": "VNeID (định danh điện tử)",
    "suc-khoe": "Sổ sức khỏe điện tử, BHYT",
    "hoa-don": "Hóa đơn điện tử",
    "dich-vu-cong": "Cổng Dịch vụ công quốc gia",
    "to-cong-nghe-so": "Tổ công nghệ số cộng đồng",
    "an-toan": "Phòng tránh lừa đảo",
}


def topic_of(entry_id: str) -> str | None:
    """The topic an entry id starts with ('vneid-kich-hoat' -> 'vneid'), or None."""
    return next((t for t in TOPICS if entry_id.startswith(t + "-")), None)


@dataclass(frozen=True)
class Entry:
    """A guidance entry: one question people ask and its official answer."""

    id: str
    topic: str
    title: str
    questions: tuple[str, ...]
    answer: str
    source: str
    checked: dt.date
    steps: tuple[str, ...] = ()
    note: str = ""
    related: tuple[str, ...] = field(default=())
    # Common problems residents hit at a step, keyed by step number (1-based): offered by "I am stuck".
    problems: tuple[tuple[int, tuple[str, ...]], ...] = ()
    # Notes only for community digital-technology team members (what to check, papers, common mistakes).
    helper_notes: tuple[str, ...] = ()
    # The exact messages the apps show for this problem ("Mã OTP không đúng"), as a resident's screenshot of the
    # phone reads: a screenshot's text is matched against them to find this entry.
    errors: tuple[str, ...] = ()
    # No official page confirms this entry: the bot says so whenever it answers from it.
    unverified: bool = False
    # The date by which an admin should check the facts again (a rule about to change, a pending decree).
    review_by: dt.date | None = None

    def problems_at(self, step: int) -> tuple[str, ...]:
        """The common problems recorded for a step (1-based), or ()."""
        return next((texts for number, texts in self.problems if number == step), ())

    def to_dict(self) -> dict:
        """The entry as plain data, in the seed files' field order (for export and hashing)."""
        data: dict = {
            "id": self.id,
            "title": self.title,
            "questions": list(self.questions),
            "answer": self.answer,
        }
        if self.steps:
            data["steps"] = list(self.steps)
        if self.note:
            data["note"] = self.note
        data["source"] = self.source
        data["checked"] = self.checked.isoformat()
        if self.related:
            data["related"] = list(self.related)
        if self.problems:
            data["problems"] = {number: list(texts) for number, texts in self.problems}
        if self.helper_notes:
            data["helper_notes"] = list(self.helper_notes)
        if self.errors:
            data["errors"] = list(self.errors)
        if self.unverified:
            data["unverified"] = True
        if self.review_by:
            data["review_by"] = self.review_by.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict, topic: str | None = None) -> Entry:
        """Inverse of to_dict for data already validated (the index snapshot, the store)."""
        checked = data["checked"]
        return cls(
            id=data["id"],
            topic=topic or data.get("topic") or topic_of(data["id"]) or "",
            title=data["title"],
            questions=tuple(data["questions"]),
            answer=data["answer"],
            source=data["source"],
            checked=checked if isinstance(checked, dt.date) else dt.date.fromisoformat(checked),
            steps=tuple(data.get("steps", ())),
            note=data.get("note", ""),
            related=tuple(data.get("related", ())),
            problems=tuple(sorted((int(k), tuple(v)) for k, v in (data.get("problems") or {}).items())),
            helper_notes=tuple(data.get("helper_notes", ())),
            errors=tuple(data.get("errors", ())),
            unverified=bool(data.get("unverified", False)),
            review_by=_date_or_none(data.get("review_by")),
        )


def _date_or_none(value: object) -> dt.date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


UNVERIFIED_NOTICE = (
    "Lưu ý: thông tin này chưa được đối chiếu với trang chính thức; "
    "hãy hỏi lại công an xã/phường hoặc Tổ công nghệ số trước khi làm."
)


def source_line(entry: Entry) -> str:
    """The closing line every answer carries: official source and date checked."""
    line = f"Nguồn: {entry.source} (cập nhật {entry.checked.strftime('%d/%m/%Y')})"
    return f"{UNVERIFIED_NOTICE}\n{line}" if entry.unverified else line


def render_answer(entry: Entry) -> str:
    """The answer exactly as a resident reads it: lead-in, numbered steps, note, source."""
    parts = [entry.answer.strip()]
    if entry.steps:
        parts.append("\n".join(f"{i}. {step.strip()}" for i, step in enumerate(entry.steps, 1)))
    if entry.note:
        parts.append(entry.note.strip())
    parts.append(source_line(entry))
    return "\n".join(parts)

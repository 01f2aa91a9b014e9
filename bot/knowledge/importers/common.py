"""What every importer shares: the defaults an admin passes, the failure type, ids and small text helpers."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from bot.core.text import deaccent, nfc
from bot.knowledge.loader import FIELD_NAMES, ID_PATTERN, KnowledgeError, Problem, check_entry
from bot.knowledge.model import TOPICS

SLUG_CHARS = 60  # ids stay readable in the admin page and in logs


@dataclass(frozen=True)
class ImportDefaults:
    """Values used where a row or a document does not say (a document never names its source)."""

    topic: str | None = None
    source: str | None = None  # official page (http/https URL)
    checked: dt.date | None = None  # date the facts were checked
    id_prefix: str | None = None  # prefix for generated ids, e.g. 'vneid-ha-noi'; the topic when not given
    sheet: str | None = None  # XLSX: the sheet to read; the first one when not given


class ImportFailed(KnowledgeError):
    """The file cannot be imported; ``problems`` lists every problem found, each with its place."""


@dataclass
class Candidate:
    """One raw entry read from a file, with where it came from ('dòng 7', 'trang 3')."""

    raw: dict
    topic: str | None
    place: str
    problems: list[Problem] = field(default_factory=list)  # found while reading (e.g. an unknown topic)


def where(name: str, place: str) -> str:
    return f"{name} {place}" if place else name


def describe(at: str, problem: Problem) -> str:
    """'tệp.csv dòng 7: trường 'source' (nguồn): còn trống, phải điền'."""
    return f"{at}: trường '{problem.field}' ({FIELD_NAMES.get(problem.field, problem.field)}): {problem.message}"


def clean(text: Any) -> str:
    """A cell or paragraph as tidy text: NFC, no carriage returns, no outer or doubled spaces."""
    if text is None:
        return ""
    lines = nfc(str(text)).replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ").split("\n")
    return "\n".join(" ".join(line.split()) for line in lines).strip()


def plain_key(text: str) -> str:
    """Header or topic name compared without accents, case, punctuation: 'Ngày cập nhật:' -> 'ngay cap nhat'."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", deaccent(clean(text)).lower()).split())


def slug(text: str) -> str:
    """'Quên mật khẩu VNeID?' -> 'quen-mat-khau-vneid', cut at a word boundary."""
    full = plain_key(text).replace(" ", "-")
    if len(full) <= SLUG_CHARS:
        return full
    cut = full[:SLUG_CHARS]
    return cut[: cut.rfind("-")] if "-" in cut else cut


def resolve_topic(value: str) -> str | None:
    """A topic as an office writes it ('VNeID', 'Sức khỏe', 'hoa-don') -> its key, or None."""
    key = slug(value)
    if key in TOPICS:
        return key
    for topic, label in TOPICS.items():
        if plain_key(value) in (plain_key(label), plain_key(label.split("(")[0])):
            return topic
    return None


class IdMaker:
    """Ids for rows and passages that have none: prefix + slug of the title, unique within the file."""

    def __init__(self, taken: set[str] | None = None) -> None:
        self.taken = set(taken or ())

    def make(self, prefix: str, title: str, fallback: str) -> str:
        base = f"{prefix}-{slug(title) or fallback}"
        eid, n = base, 2
        while eid in self.taken:
            eid, n = f"{base}-{n}", n + 1
        self.taken.add(eid)
        return eid


def id_prefix(defaults: ImportDefaults, topic: str) -> str:
    """The admin's prefix when it belongs to this topic, else the topic itself."""
    prefix = defaults.id_prefix
    return prefix if prefix and (prefix == topic or prefix.startswith(topic + "-")) else topic


def check_defaults(defaults: ImportDefaults, name: str, need: tuple[str, ...] = ()) -> list[str]:
    """Problems with the defaults themselves, reported once rather than on every row.

    ``need`` names defaults that must be given (a document has no per-passage source or date)."""
    problems = []
    asks = {
        "topic": "cần chọn chủ đề (topic), một trong: " + ", ".join(TOPICS),
        "source": "tài liệu không ghi nguồn cho từng đoạn: cần truyền nguồn chính thức (source), "
        "ví dụ https://dichvucong.gov.vn/",
        "checked": "cần truyền ngày kiểm tra thông tin (checked), dạng 2026-11-20",
    }
    problems += [f"{name}: {asks[n]}" for n in need if getattr(defaults, n) in (None, "")]
    if defaults.topic and defaults.topic not in TOPICS:
        problems.append(f"{name}: chủ đề mặc định '{defaults.topic}' không có; chọn một trong: {', '.join(TOPICS)}")
    prefix = defaults.id_prefix
    if prefix and (not ID_PATTERN.match(prefix) or not any(prefix == t or prefix.startswith(t + "-") for t in TOPICS)):
        problems.append(f"{name}: tiền tố mã '{prefix}' phải gồm chữ thường không dấu, số, '-' và bắt đầu bằng một "
                        f"chủ đề ({', '.join(TOPICS)})")
    elif prefix and defaults.topic in TOPICS and id_prefix(defaults, defaults.topic) != prefix:
        problems.append(f"{name}: tiền tố mã '{prefix}' không thuộc chủ đề '{defaults.topic}'")
    # The default source and date go through the same rules as every entry (check_entry), once.
    topic = next(iter(TOPICS))
    probe = {"id": f"{topic}-mau", "title": "x", "questions": ["x"], "answer": "x",
             "source": defaults.source or "https://example.gov.vn/", "checked": defaults.checked or dt.date.today()}
    _, found = check_entry(probe, topic)
    problems += [describe(f"{name}: giá trị mặc định", p) for p in found if p.field in ("source", "checked")]
    return problems


_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_YMD = re.compile(r"^(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})(?:[ T]00:00(?::00)?)?$")


def as_date(value: Any) -> Any:
    """'2026-11-20', '20/11/2026' (day first, as Vietnam writes it) or a real date -> date.

    Anything else is returned unchanged so check_entry reports it with the value the admin wrote."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = clean(value)
    for pattern, order in ((_YMD, (0, 1, 2)), (_DMY, (2, 1, 0))):
        match = pattern.match(text)
        if match:
            parts = [int(g) for g in match.groups()]
            try:
                return dt.date(parts[order[0]], parts[order[1]], parts[order[2]])
            except ValueError:
                return text
    return text


_MARKER = re.compile(r"^(?:[-•*+–·▪◦]\s+|\(?\d{1,2}[.)]\s+|bước\s+\d{1,2}\s*[:.)-]\s*)", re.IGNORECASE)


def strip_marker(text: str) -> str:
    """Drop a typed list marker ('1. ', '- ', 'Bước 2: '): the bot numbers steps itself."""
    return _MARKER.sub("", text, count=1).strip()


def split_items(text: str) -> list[str]:
    """A multi-valued cell: one item per line or between ' | '."""
    return [item for part in re.split(r"\n|\|", clean(text)) if (item := strip_marker(part))]


def split_ids(text: str) -> list[str]:
    """Related ids: separated by lines, '|', commas, semicolons or spaces (ids never contain them)."""
    return [part for part in re.split(r"[\s|,;]+", clean(text)) if part]


_SENTENCE_END = re.compile(r"(?<=[.!?:;…])\s+")


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def first_sentence(text: str, limit: int = 120) -> str:
    """A title for a passage without a heading: its first sentence, shortened at a word."""
    head = sentences(clean(text).replace("\n", " "))
    title = (head[0] if head else "").rstrip(" .:;")
    if len(title) > limit:
        title = title[:limit].rsplit(" ", 1)[0] + "…"
    return title

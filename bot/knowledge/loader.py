"""Load and validate the seed knowledge files (`knowledge/*.yml`).

Every problem is reported with the file, the entry and the field, so an admin can fix it
without reading code; one bad entry rejects the whole load rather than serving half a base.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from bot.knowledge.model import MAX_ANSWER_CHARS, TOPICS, Entry, render_answer
from bot.text import deaccent

ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MIN_QUESTIONS = 4
REQUIRED = ("id", "title", "questions", "answer", "source", "checked")


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


def parse_entry(raw: Any, topic: str, where: str) -> tuple[Entry | None, list[str]]:
    """Check one raw entry; return the entry (or None) and the problems found, each located."""
    if not isinstance(raw, dict):
        return None, [f"{where}: an entry must be a mapping of fields"]
    eid = raw.get("id", "?")
    at = f"{where} (id {eid})"
    problems = [f"{at}: field '{name}' is missing" for name in REQUIRED if raw.get(name) in (None, "", [])]
    if problems:
        return None, problems
    unknown = set(raw) - {*REQUIRED, "steps", "note", "related"}
    problems += [f"{at}: field '{name}' is not known" for name in sorted(unknown)]
    if not isinstance(eid, str) or not ID_PATTERN.match(eid):
        problems.append(f"{at}: field 'id' must be lower-case letters, digits and '-'")
    elif not eid.startswith(topic + "-"):
        problems.append(f"{at}: field 'id' must start with the topic '{topic}-'")
    questions = _text_list(raw["questions"])
    if questions is None:
        problems.append(f"{at}: field 'questions' must be a list of texts")
    elif len({deaccent(q).lower() for q in questions}) < MIN_QUESTIONS:
        problems.append(f"{at}: field 'questions' needs at least {MIN_QUESTIONS} different ways of asking")
    steps = _text_list(raw.get("steps", []))
    if steps is None:
        problems.append(f"{at}: field 'steps' must be a list of texts")
    related = raw.get("related", [])
    if not isinstance(related, list) or not all(isinstance(r, str) for r in related):
        problems.append(f"{at}: field 'related' must be a list of entry ids")
    for name in ("title", "answer", "note"):
        if name in raw and not isinstance(raw[name], str):
            problems.append(f"{at}: field '{name}' must be text")
    if not _is_url(raw["source"]):
        problems.append(f"{at}: field 'source' must be an http(s) address, got {raw['source']!r}")
    checked = _as_date(raw["checked"])
    if checked is None:
        problems.append(f"{at}: field 'checked' must be a date YYYY-MM-DD, got {raw['checked']!r}")
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
    )
    length = len(render_answer(entry))
    if length > MAX_ANSWER_CHARS:
        return None, [f"{at}: field 'answer' renders to {length} characters (limit {MAX_ANSWER_CHARS})"]
    return entry, []


def parse_file(path: Path) -> tuple[list[Entry], list[str]]:
    """Parse one topic file into entries; problems name the file and entry position."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        return [], [f"{path}: not valid YAML: {err}"]
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
        return [], [f"{path}: expected a mapping with 'topic' and a list 'entries'"]
    topic = doc.get("topic")
    if topic not in TOPICS:
        return [], [f"{path}: field 'topic' must be one of {', '.join(TOPICS)}, got {topic!r}"]
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
            problems.append(f"{path} (id {e.id}): field 'id' duplicates the entry in {seen[e.id]}")
        seen.setdefault(e.id, path)
    for e, path in located:
        problems += [
            f"{path} (id {e.id}): field 'related' names unknown entry '{r}'"
            for r in e.related
            if r not in seen
        ]
    return problems


def load_entries(folder: Path) -> list[Entry]:
    """Load every `*.yml` topic file in a folder; raise KnowledgeError listing all problems."""
    files = sorted(folder.glob("*.yml"))
    if not files:
        raise KnowledgeError([f"{folder}: no knowledge files (*.yml) found"])
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

"""Import the files a local digital-transformation office keeps (sheets, Word, PDF, Markdown, seed YAML)
as knowledge entries.

Pure functions, no database: `read_entries` returns plain entries (as `Entry.to_dict()` gives them) for
the store to save in one transaction. Every entry goes through the same rules as the seed files
(`check_entry`); one bad row or passage fails the whole file, listing every problem with its place
("tệp.csv dòng 7: ..."), so nothing is ever imported half-way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.knowledge.importers.common import Candidate, ImportDefaults, ImportFailed, check_defaults, describe, where
from bot.knowledge.loader import advice, check_entry, parse_file
from bot.knowledge.model import TOPICS, Entry

__all__ = ["ImportDefaults", "ImportFailed", "Imported", "import_file", "read_entries"]

SHEETS = {".csv", ".xlsx", ".xlsm"}
DOCUMENTS = {".md", ".markdown", ".docx", ".pdf"}
SEED = {".yml", ".yaml"}
OLD_FORMATS = {".xls": ".xlsx", ".doc": ".docx", ".odt": ".docx", ".ods": ".xlsx"}


@dataclass(frozen=True)
class Imported:
    """The entries of a file, and advice that does not block saving (e.g. few ways of asking)."""

    entries: list[Entry]
    advice: list[str]


def read_entries(path: Path, defaults: ImportDefaults) -> list[dict]:
    """The file's entries as plain dicts, ready to save; raise ImportFailed listing every problem."""
    return [entry.to_dict() for entry in import_file(path, defaults).entries]


def import_file(path: Path, defaults: ImportDefaults) -> Imported:
    """Read, fill in from the defaults and validate every entry of one file."""
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix in OLD_FORMATS:
        raise ImportFailed([f"{name}: định dạng cũ {suffix} chưa đọc được; "
                            f"hãy mở và lưu lại dạng {OLD_FORMATS[suffix]}"])
    if suffix not in SHEETS | DOCUMENTS | SEED:
        kinds = ", ".join(sorted(SHEETS | DOCUMENTS | SEED))
        raise ImportFailed([f"{name}: không nhận loại tệp '{suffix or '(không có đuôi)'}'; dùng một trong: {kinds}"])
    if not path.is_file():
        raise ImportFailed([f"{name}: không tìm thấy tệp {path}"])
    try:
        if path.stat().st_size == 0:
            raise ImportFailed([f"{name}: tệp trống"])
        if suffix in SEED:
            return _seed(path)
        need = ("topic", "source", "checked") if suffix in DOCUMENTS else ()
        problems = check_defaults(defaults, name, need)
        if problems:
            raise ImportFailed(problems)
        return _finish(name, _candidates(path, suffix, defaults))
    except OSError as err:
        raise ImportFailed([f"{name}: không đọc được tệp ({err.strerror or err})"]) from None


def _candidates(path: Path, suffix: str, defaults: ImportDefaults) -> list[Candidate]:
    from bot.knowledge.importers import documents, passages, pdf, sheets

    if suffix in SHEETS:
        return sheets.read_sheet(path, defaults)
    read = {".docx": documents.docx_blocks, ".pdf": pdf.pdf_blocks}.get(suffix, documents.markdown_blocks)
    return passages.candidates(read(path), defaults)


def _finish(name: str, candidates: list[Candidate]) -> Imported:
    """Validate every candidate and the ids across the file; all or nothing."""
    problems: list[str] = []
    entries: list[tuple[Entry, str]] = []
    first_at: dict[str, str] = {}
    for candidate in candidates:
        at = where(name, candidate.place)
        problems += [describe(at, p) for p in candidate.problems]
        if candidate.topic:
            entry, found = check_entry(candidate.raw, candidate.topic)
        else:
            # Without a topic the id cannot be judged; check the other fields against any topic.
            placeholder = next(iter(TOPICS))
            entry, found = check_entry({**candidate.raw, "id": f"{placeholder}-muc"}, placeholder)
            entry = None
        problems += [describe(at, p) for p in found]
        eid = candidate.raw.get("id")
        if isinstance(eid, str) and eid:
            if eid in first_at:
                problems.append(f"{at}: trường 'id' (mã mục): mã '{eid}' trùng với {first_at[eid]}")
            first_at.setdefault(eid, candidate.place or name)
        if entry is not None:
            entries.append((entry, at))
    if problems:
        raise ImportFailed(problems)
    if not entries:
        raise ImportFailed([f"{name}: không có mục nào để nhập"])
    return Imported([e for e, _ in entries], [describe(at, p) for e, at in entries for p in advice(e)])


def _seed(path: Path) -> Imported:
    """A topic file in the seed format (knowledge/*.yml): its own rules, plus unique ids within it."""
    found, problems = parse_file(path)
    seen: set[str] = set()
    for entry in found:
        if entry.id in seen:
            problems.append(f"{path.name} (id {entry.id}): trường 'id' (mã mục): trùng với một mục khác trong tệp")
        seen.add(entry.id)
    if problems:
        raise ImportFailed(problems)
    if not found:
        raise ImportFailed([f"{path.name}: không có mục nào để nhập"])
    return Imported(found, [describe(f"{path.name} (id {e.id})", p) for e in found for p in advice(e)])

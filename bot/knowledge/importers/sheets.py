"""Office spreadsheets (CSV, XLSX) -> raw entries: one row is one entry, the first row names the columns.

Rows are numbered as the spreadsheet shows them (the header is row 1), so an admin can go straight
to the cell a problem names.
"""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from bot.knowledge.importers.common import (
    Candidate,
    IdMaker,
    ImportDefaults,
    ImportFailed,
    as_date,
    clean,
    id_prefix,
    plain_key,
    resolve_topic,
    split_ids,
    split_items,
)
from bot.knowledge.loader import Problem
from bot.knowledge.model import TOPICS, topic_of

# Accepted column names, compared without accents, case or punctuation.
HEADERS = {
    "id": ("id", "ma", "ma muc", "ma so"),
    "topic": ("topic", "chu de"),
    "title": ("title", "tieu de"),
    "questions": ("questions", "question", "cau hoi", "cac cau hoi", "cach hoi"),
    "answer": ("answer", "tra loi", "cau tra loi", "noi dung tra loi"),
    "steps": ("steps", "cac buoc", "buoc", "cac buoc thuc hien"),
    "note": ("note", "luu y", "ghi chu"),
    "source": ("source", "nguon", "nguon chinh thuc"),
    "checked": ("checked", "ngay kiem tra", "ngay cap nhat"),
    "related": ("related", "lien quan", "muc lien quan"),
    "helper notes": ("helper notes", "ghi chu cho to cong nghe so", "ghi chu to cong nghe so"),
    "errors": ("errors", "thong bao loi", "loi ung dung", "thong bao loi cua ung dung"),
}
COLUMN = {alias: name.replace(" ", "_") for name, aliases in HEADERS.items() for alias in aliases}
IGNORED = {"stt", "tt", "so thu tu"}  # row numbers offices add; they carry nothing
SHOWN = "Mã, Chủ đề, Tiêu đề, Câu hỏi, Trả lời, Các bước, Lưu ý, Nguồn, Ngày kiểm tra, Liên quan, " \
        "Ghi chú cho tổ công nghệ số, Thông báo lỗi (hoặc id, topic, title, questions, answer, steps, note, source, " \
        "checked, related, helper_notes, errors)"
HEADER_SEARCH = 5  # rows looked at for the header
LISTS = {"questions": split_items, "steps": split_items, "helper_notes": split_items, "errors": split_items,
         "related": split_ids}


def read_csv(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cells) of a CSV in UTF-8 (with or without BOM), comma-, semicolon- or tab-separated."""
    data = path.read_bytes()
    name = path.name
    if data.startswith(b"PK\x03\x04"):
        raise ImportFailed([f"{name}: đây là bảng Excel (.xlsx) mang đuôi .csv; hãy đổi đuôi thành .xlsx"])
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        raise ImportFailed([f"{name}: không phải tệp CSV dạng chữ UTF-8 (có ký tự nhị phân hoặc mã UTF-16); "
                            "trong Excel hãy chọn Lưu thành → 'CSV UTF-8 (Comma delimited)'"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise ImportFailed([f"{name} dòng {line}: tệp không lưu theo mã UTF-8 (có thể là Windows-1258/ANSI), "
                            "chữ tiếng Việt sẽ bị sai; trong Excel hãy chọn Lưu thành → 'CSV UTF-8 (Comma "
                            "delimited)', trong Google Sheets chọn Tải xuống → CSV"]) from None
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from enumerate(reader, 1)
    except csv.Error as err:
        raise ImportFailed([f"{name} dòng {reader.line_num}: CSV hỏng ({err})"]) from None


def _delimiter(text: str) -> str:
    """The separator that makes a header appear: Excel writes ';' where the decimal mark is a comma (as in
    Vietnamese settings), ',' elsewhere; tab for pasted tables. Falls back to the first line's commonest."""
    for delimiter in ",;\t":
        try:
            top = [cells for cells in itertools.islice(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter),
                                                       HEADER_SEARCH * 4) if any(c.strip() for c in cells)]
        except csv.Error:
            continue
        if any(_is_header(cells) for cells in top[:HEADER_SEARCH]):
            return delimiter
    first = next((line for line in text.splitlines() if line.strip()), "")
    return max(",;\t", key=first.count)


def read_xlsx(path: Path, sheet: str | None) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cells) of the first sheet of an XLSX workbook, or of the named one."""
    import openpyxl  # only needed for workbooks

    name = path.name
    if not zipfile.is_zipfile(path):
        raise ImportFailed([f"{name}: không phải tệp Excel .xlsx hợp lệ (tệp hỏng, bị cắt, hoặc là .xls cũ: hãy mở "
                            "bằng Excel và lưu lại dạng .xlsx)"])
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many types for a damaged workbook; all mean the same to an admin
        raise ImportFailed([f"{name}: không mở được bảng Excel (tệp hỏng hoặc không phải .xlsx: {err})"]) from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise ImportFailed([f"{name}: không có trang tính '{sheet}'; các trang có: {', '.join(book.sheetnames)}"])
        rows = book[sheet] if sheet is not None else book.worksheets[0]
        try:
            for number, row in enumerate(rows.iter_rows(values_only=True), 1):
                yield number, list(row)
        except ImportFailed:
            raise
        except Exception as err:  # damage inside the sheet only shows while reading rows
            raise ImportFailed([f"{name}: bảng Excel bị hỏng, không đọc hết được ({err})"]) from None
    finally:
        book.close()


def _cell(column: str, value: Any) -> Any:
    if column == "checked":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            from openpyxl.utils.datetime import from_excel  # a date cell formatted as a number

            try:
                return as_date(from_excel(value))
            except (ValueError, OverflowError):
                return clean(value)
        return as_date(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if column in LISTS:
        return LISTS[column](clean(value))
    return clean(value)


def _columns(name: str, row: int, header: list[Any]) -> dict[int, str]:
    """Column index -> field, or ImportFailed naming every header problem."""
    columns: dict[int, str] = {}
    problems = []
    for index, cell in enumerate(header):
        key = plain_key(clean(cell))
        if not key or key in IGNORED:
            continue
        column = COLUMN.get(key)
        if column is None:
            problems.append(f"{name} dòng {row}: không hiểu cột '{clean(cell)}'; các cột dùng được: {SHOWN}")
        elif column in columns.values():
            problems.append(f"{name} dòng {row}: cột '{clean(cell)}' bị lặp")
        else:
            columns[index] = column
    present = set(columns.values())
    if "answer" not in present or not present & {"title", "questions"}:
        problems.append(f"{name} dòng {row}: bảng cần ít nhất cột 'Trả lời' và cột 'Câu hỏi' hoặc 'Tiêu đề'")
    if problems:
        raise ImportFailed(problems)
    return columns


def _is_header(cells: list[Any]) -> bool:
    found = {COLUMN.get(plain_key(clean(cell))) for cell in cells}
    return "answer" in found and bool(found & {"title", "questions"})


def _header(name: str, filled: Iterator[tuple[int, list[Any]]]) -> tuple[int, list[Any]]:
    """The header row: the first with the columns an entry needs. Offices often put a title row or two
    above it ("DANH MỤC CÂU HỎI THƯỜNG GẶP - UBND XÃ ..."); without any such row, the first row is
    returned so the problems name its columns."""
    seen: list[tuple[int, list[Any]]] = []
    for row in filled:
        seen.append(row)
        if _is_header(row[1]):
            return row
        if len(seen) == HEADER_SEARCH:
            break
    if not seen:
        raise ImportFailed([f"{name}: tệp trống"])
    return seen[0]


def candidates(name: str, rows: Iterable[tuple[int, list[Any]]], defaults: ImportDefaults) -> list[Candidate]:
    """One candidate per non-empty row below the header."""
    filled = ((number, cells) for number, cells in rows if any(clean(c) for c in cells))
    number, header = _header(name, filled)
    columns = _columns(name, number, header)
    missing = [(f, label) for f, label in (("source", "Nguồn"), ("checked", "Ngày kiểm tra"))
               if f not in columns.values() and getattr(defaults, f) is None]
    if missing:
        raise ImportFailed([f"{name}: không có cột '{label}' và chưa truyền giá trị mặc định ({f})"
                            for f, label in missing])
    parsed = []
    for number, cells in filled:
        raw = {columns[i]: _cell(columns[i], v) for i, v in enumerate(cells) if i in columns}
        unnamed = any(clean(v) and (i >= len(header) or not clean(header[i])) for i, v in enumerate(cells))
        parsed.append((number, {k: v for k, v in raw.items() if v not in ("", [], None)}, unnamed))
    ids = IdMaker({raw["id"] for _, raw, _ in parsed if isinstance(raw.get("id"), str)})
    return [_candidate(raw, number, defaults, ids, unnamed) for number, raw, unnamed in parsed]


def _candidate(raw: dict, number: int, defaults: ImportDefaults, ids: IdMaker, unnamed: bool) -> Candidate:
    """Fill what the row leaves out (title, id, source, date) and settle its topic."""
    problems = [Problem("entry", "có dữ liệu ở cột không có tên; đặt tên cột hoặc xóa dữ liệu đó")] if unnamed else []
    written = raw.pop("topic", "")
    topic = resolve_topic(written) if written else None
    if written and topic is None:
        problems.append(Problem("topic", f"không có chủ đề '{written}'; chọn một trong: {', '.join(TOPICS)}"))
    topic = topic or (topic_of(raw["id"]) if raw.get("id") else None) or defaults.topic
    if topic is None and not written:
        problems.append(Problem("topic", "chưa rõ chủ đề: điền cột 'Chủ đề' hoặc chọn chủ đề mặc định khi nhập"))
    if not raw.get("title") and raw.get("questions"):
        raw["title"] = raw["questions"][0]
    if not raw.get("id") and topic:
        raw["id"] = ids.make(id_prefix(defaults, topic), raw.get("title", ""), f"muc-{number}")
    for name in ("source", "checked"):
        if raw.get(name) is None and getattr(defaults, name) is not None:
            raw[name] = getattr(defaults, name)
    return Candidate(raw, topic, f"dòng {number}", problems)


def read_sheet(path: Path, defaults: ImportDefaults) -> list[Candidate]:
    rows = read_csv(path) if path.suffix.lower() == ".csv" else read_xlsx(path, defaults.sheet)
    return candidates(path.name, rows, defaults)

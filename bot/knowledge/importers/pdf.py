"""PDF documents -> blocks, page by page.

A PDF keeps no structure, only positioned text. pypdf's layout mode gives the lines with blank lines
where the page has vertical gaps (paragraph breaks); a second pass reads each line's font size and
weight, so that lines set clearly larger than the body text (or, failing that, whole bold lines) are
taken as headings. Without either, the text is split at paragraphs.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bot.core.text import nfc
from bot.knowledge.importers.common import ImportFailed, clean, strip_marker
from bot.knowledge.importers.passages import BULLET, HEADING, NUMBERED, PARAGRAPH, Block, typed_kind

HEADING_RATIO = 1.15  # Word's smallest heading style (Heading 3, 12 pt) over 10.5 pt body text
PAGE_FURNITURE = re.compile(r"^(?:trang|page)?\s*\d+(?:\s*(?:/|of|trên)\s*\d+)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Style:
    size: float
    bold: bool


@dataclass(frozen=True)
class Line:
    text: str  # '' for a vertical gap
    page: int
    style: Style | None


def _key(text: str) -> str:
    return re.sub(r"\s+", "", nfc(text))


def _styles(page) -> dict[str, Style]:
    """Each text line of the page (spaces removed) -> its dominant font size and whether it is all bold."""
    lines: dict[str, Style] = {}
    chars: Counter[float] = Counter()
    bold = [0, 0]  # characters in bold fonts, all characters
    text: list[str] = []

    def flush() -> None:
        if chars:
            lines.setdefault(_key("".join(text)), Style(chars.most_common(1)[0][0], bold[0] == bold[1]))
        chars.clear()
        bold[:] = [0, 0]
        text.clear()

    def visit(chunk: str, cm: list, tm: list, font: dict | None, size: float) -> None:
        for piece in re.split(r"(\n)", chunk):
            if piece == "\n":
                flush()
                continue
            count = len(piece.replace(" ", ""))
            if not count:
                text.append(piece)
                continue
            # the size on the page: font size times the vertical scale of text matrix x current matrix
            c = tm[2] * cm[0] + tm[3] * cm[2]
            d = tm[2] * cm[1] + tm[3] * cm[3]
            chars[round(size * math.hypot(c, d), 1)] += count
            name = str((font or {}).get("/BaseFont", "")).lower()
            bold[0] += count if ("bold" in name or "black" in name or "heavy" in name) else 0
            bold[1] += count
            text.append(piece)

    page.extract_text(visitor_text=visit)
    flush()
    return lines


def _style_of(styles: dict[str, Style], text: str) -> Style | None:
    key = _key(text)
    if key in styles:
        return styles[key]
    return next((s for k, s in styles.items() if k and (k.startswith(key) or key.startswith(k))), None)


def _read(path: Path) -> list[Line]:
    # pypdf logs its repairs ("EOF marker not found") in English; the admin gets one Vietnamese message instead.
    log = logging.getLogger("pypdf")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        return _read_pages(path)
    finally:
        log.setLevel(level)


def _read_pages(path: Path) -> list[Line]:
    from pypdf import PdfReader

    name = path.name
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # many PDFs are "protected" with an empty password
            except Exception:  # an unsupported cipher is as closed as a wrong password
                opened = 0
            if not opened:
                raise ImportFailed([f"{name}: tệp PDF có mật khẩu; hãy lưu một bản không đặt mật khẩu rồi nhập lại"])
        pages = list(reader.pages)
    except ImportFailed:
        raise
    except Exception as err:  # pypdf raises many types for a damaged file; all mean "cannot read it"
        raise ImportFailed([f"{name}: không mở được tệp PDF (tệp hỏng hoặc không phải PDF: {err})"]) from None
    lines: list[Line] = []
    broken = []
    for number, page in enumerate(pages, 1):
        try:
            styles = _styles(page)
            try:
                text = page.extract_text(extraction_mode="layout")
            except Exception:  # layout mode is best effort; plain text still has the words
                text = page.extract_text()
        except Exception as err:
            broken.append(f"{name} trang {number}: không đọc được chữ trong trang này ({err})")
            continue
        for raw in text.splitlines():
            line = clean(raw)
            if PAGE_FURNITURE.match(line):
                continue
            lines.append(Line(line, number, _style_of(styles, line) if line else None))
        lines.append(Line("", number, None))
    if broken:
        raise ImportFailed(broken)
    if not any(line.text for line in lines):
        raise ImportFailed([f"{name}: không có chữ nào đọc được (có thể là bản scan); cần bản PDF có chữ, "
                            "hoặc tệp Word"])
    return lines


def _heading_rule(lines: list[Line]):
    """Which lines are headings: larger than the body text if the document has such lines, else whole bold
    lines, else none."""
    sizes: Counter[float] = Counter()
    for line in lines:
        if line.style:
            sizes[line.style.size] += len(line.text)
    body = sizes.most_common(1)[0][0] if sizes else 0.0

    def larger(line: Line) -> bool:
        return bool(line.style) and line.style.size >= body * HEADING_RATIO and len(line.text) <= 150

    def bold(line: Line) -> bool:
        return (bool(line.style) and line.style.bold and len(line.text) <= 120 and not line.text.endswith((":", "."))
                and typed_kind(line.text) == PARAGRAPH)

    for rule in (larger, bold):
        if any(rule(line) for line in lines if line.text):
            return rule
    return lambda line: False


def pdf_blocks(path: Path) -> list[Block]:
    lines = _read(path)
    is_heading = _heading_rule(lines)
    blocks: list[Block] = []
    joining = False  # the next text line continues the last block (no gap, no marker)
    for line in lines:
        place = f"trang {line.page}"
        if not line.text:
            joining = False
            continue
        last = blocks[-1] if blocks else None
        if is_heading(line):
            if last and last.kind == HEADING and joining:  # a heading wrapped over two lines
                blocks[-1] = Block(HEADING, f"{last.text} {line.text}", last.place)
            else:
                blocks.append(Block(HEADING, line.text, place))
            joining = True
            continue
        kind = typed_kind(line.text)
        if kind != PARAGRAPH:
            blocks.append(Block(kind, strip_marker(line.text), place))
        elif joining and last and last.kind in (PARAGRAPH, NUMBERED, BULLET):
            blocks[-1] = Block(last.kind, f"{last.text} {line.text}", last.place)
        else:
            blocks.append(Block(PARAGRAPH, line.text, place))
        joining = True
    return blocks

"""Markdown and Word documents -> blocks (headings, paragraphs, list items) in reading order."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from bot.knowledge.importers.common import ImportFailed, clean, plain_key, strip_marker
from bot.knowledge.importers.passages import BULLET, HEADING, NUMBERED, PARAGRAPH, Block, typed_kind


def _typed(text: str, place: str) -> Block:
    kind = typed_kind(text)
    return Block(kind, strip_marker(text) if kind != PARAGRAPH else text, place)


def _fold(blocks: list[Block], text: str, place: str) -> None:
    """A nested list item or a second paragraph inside an item belongs to that item, not a new step."""
    if not blocks or blocks[-1].kind not in (NUMBERED, BULLET):
        blocks.append(Block(BULLET, text, place))
        return
    last = blocks[-1]
    blocks[-1] = Block(last.kind, f"{last.text}; {text}", last.place)


# --- Markdown -----------------------------------------------------------------------------------


def _inline_text(token) -> str:
    """Plain text of an inline token: emphasis dropped, link targets kept in brackets when not shown."""
    out: list[str] = []
    href = None
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif child.type == "image":
            out.append(child.content)
        elif child.type == "link_open":
            href, start = str(child.attrs.get("href", "")), len(out)
        elif child.type == "link_close" and href:
            if href.startswith(("http://", "https://")) and href not in "".join(out[start:]):
                out.append(f" ({href})")
            href = None
    return clean("".join(out))


def markdown_blocks(path: Path) -> list[Block]:
    from markdown_it import MarkdownIt

    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFailed([f"{path.name}: tệp không lưu theo mã UTF-8; hãy lưu lại với mã UTF-8"]) from None
    blocks: list[Block] = []
    lists: list[str] = []  # kinds of the open lists, outermost first
    depth = 0  # list items open
    started = False  # the open top-level item already has its block
    heading = in_cell = False
    row: list[str] = []
    for token in MarkdownIt("commonmark").enable("table").parse(text):
        kind = token.type
        place = f"dòng {token.map[0] + 1}" if token.map else ""
        if kind in ("bullet_list_open", "ordered_list_open"):
            lists.append(NUMBERED if kind == "ordered_list_open" else BULLET)
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind in ("list_item_open", "list_item_close"):
            depth += 1 if kind == "list_item_open" else -1
            started = started and depth > 1 if kind == "list_item_open" else started and depth > 0
        elif kind in ("heading_open", "heading_close"):
            heading = kind == "heading_open"
        elif kind in ("th_open", "td_open", "th_close", "td_close"):
            in_cell = kind.endswith("_open")
        elif kind == "tr_open":
            row, row_place = [], place
        elif kind == "tr_close" and any(row):
            blocks.append(Block(BULLET, " — ".join(c for c in row if c), row_place))
        elif kind in ("fence", "code_block") and token.content.strip():
            blocks.append(Block(PARAGRAPH, clean(token.content), place))
        elif kind == "inline":
            content = _inline_text(token)
            if in_cell:
                row.append(content)
            elif not content:
                continue
            elif heading:
                blocks.append(Block(HEADING, content, place))
            elif depth and (started or depth > 1):
                _fold(blocks, content, place)
            elif depth:
                blocks.append(Block(lists[0], strip_marker(content), place))
                started = True
            else:
                blocks.append(_typed(content, place))
    return blocks


# --- Word ---------------------------------------------------------------------------------------

_HEADING_STYLE = re.compile(r"^(heading|title|tieu de|de muc)\b")


class _Styles:
    """A paragraph's style and the styles it is based on, by name (looked up once per style: python-docx's
    lookup is slow)."""

    def __init__(self) -> None:
        self.chains: dict[str | None, list[str]] = {}

    def chain(self, paragraph) -> list[str]:
        key = paragraph._p.style
        if key not in self.chains:
            names, style = [], paragraph.style
            while style is not None:
                names.append(plain_key(style.name or ""))
                style = style.base_style
            self.chains[key] = names
        return self.chains[key]


def _is_heading(paragraph, styles: _Styles) -> bool:
    if any(_HEADING_STYLE.match(name) for name in styles.chain(paragraph)):
        return True
    levels = paragraph._p.xpath("./w:pPr/w:outlineLvl/@w:val")
    return bool(levels) and levels[0].isdigit() and int(levels[0]) < 9


def _list_kind(paragraph, styles: _Styles, numbering) -> tuple[str, int] | None:
    """(NUMBERED or BULLET, nesting level) for a Word list paragraph, else None."""
    num_ids = paragraph._p.xpath("./w:pPr/w:numPr/w:numId/@w:val")
    levels = paragraph._p.xpath("./w:pPr/w:numPr/w:ilvl/@w:val")
    level = int(levels[0]) if levels else 0
    if not num_ids:
        for name in styles.chain(paragraph):  # python-docx's List Number/List Bullet keep numbering in the style
            if name.startswith("list number"):
                return NUMBERED, 0
            if name.startswith("list bullet"):
                return BULLET, 0
    if not num_ids or num_ids[0] == "0":
        return None
    formats = []
    if numbering is not None:
        abstract = numbering.xpath(f'./w:num[@w:numId="{num_ids[0]}"]/w:abstractNumId/@w:val')
        if abstract:
            formats = numbering.xpath(
                f'./w:abstractNum[@w:abstractNumId="{abstract[0]}"]/w:lvl[@w:ilvl="{level}"]/w:numFmt/@w:val')
    return (BULLET if formats and formats[0] in ("bullet", "none") else NUMBERED), level


def docx_blocks(path: Path) -> list[Block]:
    import docx
    from docx.table import Table

    if not zipfile.is_zipfile(path):
        raise ImportFailed([f"{path.name}: không phải tệp Word .docx hợp lệ (tệp hỏng, bị cắt, hoặc là .doc cũ: "
                            "hãy mở bằng Word và lưu lại dạng .docx)"])
    try:
        document = docx.Document(str(path))
        try:
            numbering = document.part.numbering_part.element
        except (KeyError, NotImplementedError):
            numbering = None
        content = list(document.iter_inner_content())
    except Exception as err:  # python-docx/lxml raise many types for a damaged package; one message for all
        raise ImportFailed([f"{path.name}: không mở được tệp Word (tệp hỏng hoặc không phải .docx: {err})"]) from None
    items: list[tuple[str, str, str, int]] = []  # (kind, text, place, list level); kind 'bold' decided below
    styled = False
    styles = _Styles()
    number = 0
    for part in content:
        number += 1
        place = f"đoạn {number}"
        if isinstance(part, Table):
            for r in part.rows:
                cells = list(dict.fromkeys(clean(c.text) for c in r.cells if clean(c.text)))
                if cells:
                    items.append((BULLET, " — ".join(cells), place, 0))
            continue
        text = clean(part.text)
        if not text:
            number -= 1  # blank lines are not paragraphs anyone counts
            continue
        if _is_heading(part, styles):
            styled = True
            items.append((HEADING, text, place, 0))
            continue
        listed = _list_kind(part, styles, numbering)
        if listed:
            items.append((listed[0], strip_marker(text), place, listed[1]))
        elif _bold_line(part, text):
            items.append(("bold", text, place, 0))
        else:
            items.append((PARAGRAPH, text, place, 0))
    blocks: list[Block] = []
    for kind, text, place, level in items:
        if kind == "bold":  # a short all-bold line is a heading only in documents without heading styles
            blocks.append(Block(PARAGRAPH, text, place) if styled else Block(HEADING, text, place))
        elif level > 0:
            _fold(blocks, text, place)
        elif kind == PARAGRAPH:
            blocks.append(_typed(text, place))
        else:
            blocks.append(Block(kind, text, place))
    return blocks


def _bold_line(paragraph, text: str) -> bool:
    runs = [r for r in paragraph.runs if r.text.strip()]
    return bool(runs) and all(r.bold for r in runs) and len(text) <= 120 and not text.endswith((":", "."))

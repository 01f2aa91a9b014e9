"""Documents -> entries: each heading starts an entry; its paragraphs become the answer, a numbered list
the steps, and what follows the list the note. A section too long for one reply is cut into parts
("(phần 2)") that each fit MAX_ANSWER_CHARS as the resident will read them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from bot.knowledge.importers.common import (
    Candidate,
    IdMaker,
    ImportDefaults,
    first_sentence,
    id_prefix,
    sentences,
)
from bot.knowledge.model import MAX_ANSWER_CHARS, Entry, render_answer

HEADING, PARAGRAPH, BULLET, NUMBERED = "heading", "paragraph", "bullet", "numbered"
STEPS_LEAD = "Các bước thực hiện:"  # lead-in when a section is only a numbered list
MORE_STEPS_LEAD = "Các bước tiếp theo:"


@dataclass(frozen=True)
class Block:
    """One piece of a document in reading order, with where it is ('dòng 12', 'đoạn 4', 'trang 3')."""

    kind: str
    text: str
    place: str


@dataclass(frozen=True)
class Part:
    """What one entry will hold: lead-in paragraphs, steps, note paragraphs."""

    answer: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    note: tuple[str, ...] = ()

    def add(self, kind: str, text: str) -> Part | None:
        """This part with one more block, or None when the block must open a new part (a list after the note)."""
        line = f"- {text}" if kind == BULLET else text
        if kind == NUMBERED:
            return None if self.note else replace(self, steps=(*self.steps, text))
        if self.steps:
            return replace(self, note=(*self.note, line))
        return replace(self, answer=(*self.answer, line))

    def lead(self, first: bool) -> str:
        return "\n".join(self.answer) or (STEPS_LEAD if first else MORE_STEPS_LEAD)


@dataclass
class Section:
    title: str
    place: str
    blocks: list[Block] = field(default_factory=list)


def sections(blocks: list[Block]) -> list[Section]:
    """Group blocks under their headings; text with no heading above it becomes one section per paragraph
    (titled by its first sentence), the lists right after a paragraph staying with it."""
    out: list[Section] = []
    current: Section | None = None
    for block in blocks:
        if block.kind == HEADING:
            current = Section(block.text, block.place)
            out.append(current)
            continue
        headless = current is None or current.title == ""
        if headless and (current is None or block.kind == PARAGRAPH):
            current = Section("", block.place)
            out.append(current)
        current.blocks.append(block)
    for section in out:
        if not section.title and section.blocks:
            section.title = first_sentence(section.blocks[0].text)
    return [s for s in out if s.blocks]  # a heading with nothing under it (a document title) is no entry


class Packer:
    """Fills parts block by block, checking the exact rendered length (source line included)."""

    def __init__(self, topic: str, defaults: ImportDefaults) -> None:
        self.topic, self.defaults = topic, defaults

    def fits(self, part: Part) -> bool:
        entry = Entry(id="x", topic=self.topic, title="", questions=(), answer=part.lead(first=False),
                      source=self.defaults.source or "", checked=self.defaults.checked,  # type: ignore[arg-type]
                      steps=part.steps, note="\n".join(part.note))
        return len(render_answer(entry)) <= MAX_ANSWER_CHARS

    def pieces(self, kind: str, text: str) -> list[str]:
        """The block's text, cut at sentences (or words, for a run-on sentence) when it cannot fit alone."""
        if self._alone(kind, text):
            return [text]
        units = [w for s in sentences(text) for w in ([s] if self._alone(kind, s) else s.split())]
        out: list[str] = []
        for unit in units:
            if out and self._alone(kind, f"{out[-1]} {unit}"):
                out[-1] = f"{out[-1]} {unit}"
            else:
                out.append(unit)
        return out

    def _alone(self, kind: str, text: str) -> bool:
        return self.fits(Part().add(kind, text) or Part())  # an empty part always takes a block

    def pack(self, blocks: list[Block]) -> list[tuple[Part, str]]:
        """(part, place of its first block) in order."""
        parts: list[tuple[Part, str]] = []
        current, place = Part(), ""
        for block in blocks:
            for piece in self.pieces(block.kind, block.text):
                grown = current.add(block.kind, piece)
                if grown is None or not self.fits(grown):
                    if current != Part():
                        parts.append((current, place))
                    current, place = Part().add(block.kind, piece) or Part(), block.place
                else:
                    current, place = grown, place or block.place
        if current != Part():
            parts.append((current, place))
        return parts


def candidates(blocks: list[Block], defaults: ImportDefaults) -> list[Candidate]:
    """Entries for a document's blocks; the topic, source and date come from the defaults."""
    topic = defaults.topic or ""
    packer, ids, out = Packer(topic, defaults), IdMaker(), []
    for section in sections(blocks):
        parts = packer.pack(section.blocks)
        titles = [section.title if i == 0 else f"{section.title} (phần {i + 1})" for i in range(len(parts))]
        section_ids = [ids.make(id_prefix(defaults, topic), t, "muc") for t in titles]
        for i, ((part, place), title) in enumerate(zip(parts, titles, strict=True)):
            raw = {"id": section_ids[i], "title": title, "questions": [section.title], "answer": part.lead(i == 0),
                   "source": defaults.source, "checked": defaults.checked}
            if part.steps:
                raw["steps"] = list(part.steps)
            if part.note:
                raw["note"] = "\n".join(part.note)
            neighbours = [section_ids[j] for j in (i - 1, i + 1) if 0 <= j < len(parts)]
            if neighbours:
                raw["related"] = neighbours  # the bot offers the other parts as follow-up buttons
            out.append(Candidate(raw, topic, section.place if i == 0 else place))
    return out


NUMBERED_TEXT = re.compile(r"^\(?\d{1,2}[.)]\s+\S|^bước\s+\d{1,2}\s*[:.)-]", re.IGNORECASE)
BULLET_TEXT = re.compile(r"^[-•*+–·▪◦]\s+\S")


def typed_kind(text: str) -> str:
    """A paragraph someone numbered or bulleted by hand ('1. Mở ứng dụng', '- Mang căn cước')."""
    if NUMBERED_TEXT.match(text):
        return NUMBERED
    if BULLET_TEXT.match(text):
        return BULLET
    return PARAGRAPH

"""What changed between two versions of an entry, as lines an admin can read (not YAML, not JSON)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from bot.knowledge.loader import FIELD_NAMES

ORDER = ("title", "questions", "answer", "steps", "note", "source", "checked", "related", "problems", "helper_notes",
         "errors")
STATUS = {"active": "đang dùng", "retired": "đã ngừng dùng"}


@dataclass(frozen=True)
class DiffLine:
    kind: str  # added | removed | same | gap
    text: str


def readable(data: dict, status: str | None = None) -> list[str]:
    """An entry's fields, one line per value, each labelled in Vietnamese ("Câu hỏi: ...")."""
    out = []
    if status:
        out.append(f"Trạng thái: {STATUS.get(status, status)}")
    for name in ORDER:
        value = data.get(name)
        if value in (None, "", [], {}):
            continue
        label = FIELD_NAMES.get(name, name).capitalize()
        if name == "steps":
            out += [f"{label}: {i}. {step}" for i, step in enumerate(value, 1)]
        elif name == "problems":
            out += [f"{label}: bước {k}: {t}" for k, texts in sorted(value.items(), key=lambda kv: int(kv[0]))
                    for t in texts]
        elif isinstance(value, list):
            out += [f"{label}: {v}" for v in value]
        else:
            out.append(f"{label}: {value}")
    return out


def diff(old: list[str], new: list[str], context: int = 1) -> list[DiffLine]:
    """Lines removed and added from old to new, with a little unchanged context; [] when identical."""
    if old == new:
        return []
    out: list[DiffLine] = []
    for group in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_grouped_opcodes(context):
        if out:
            out.append(DiffLine("gap", "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [DiffLine("same", line) for line in old[i1:i2]]
                continue
            out += [DiffLine("removed", line) for line in old[i1:i2]]
            out += [DiffLine("added", line) for line in new[j1:j2]]
    return out

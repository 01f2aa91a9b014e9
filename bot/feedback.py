"""Answer feedback: which way the resident judged the last answer, and a durable record of it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from bot.privacy import mask
from bot.text import deaccent, words

_NEGATIVE = {"sai", "khong dung", "chua dung", "khong duoc", "vo ich", "chua giup", "khong giup", "chua ro", "te"}


def is_helpful(entity_value: str | None, text: str) -> bool:
    """True for positive feedback: a button's value wins, else the typed words decide."""
    if entity_value in ("yes", "no"):
        return entity_value == "yes"
    plain = " ".join(deaccent(w) for w in words(text))
    padded = f" {plain} "
    return not any(f" {neg} " in padded for neg in _NEGATIVE)


def append_jsonl(path: Path, record: dict) -> None:
    """Append one record (text fields masked) to a JSON-lines log."""
    path.parent.mkdir(parents=True, exist_ok=True)
    clean = {k: mask(v) if isinstance(v, str) else v for k, v in record.items()}
    clean["at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(clean, ensure_ascii=False) + "\n")

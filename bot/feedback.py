"""Answer feedback: which way the resident judged the last answer (recorded in the store by the action)."""

from __future__ import annotations

from bot.text import deaccent, words

_NEGATIVE = {"sai", "khong dung", "chua dung", "khong duoc", "vo ich", "chua giup", "khong giup", "chua ro", "te"}


def is_helpful(entity_value: str | None, text: str) -> bool:
    """True for positive feedback: a button's value wins, else the typed words decide."""
    if entity_value in ("yes", "no"):
        return entity_value == "yes"
    plain = " ".join(deaccent(w) for w in words(text))
    padded = f" {plain} "
    return not any(f" {neg} " in padded for neg in _NEGATIVE)

"""Answer feedback: which way the resident judged the last answer (recorded in the store by the action)."""

from __future__ import annotations

from bot.core.limits import Limiter, Rule
from bot.core.text import deaccent, words

# Feedback feeds the admins' charts: one sender (or one client address, where the door knows it) may not fill them.
# Past the limit the resident is still thanked; the judgement is just not stored.
FEEDBACK_PER_SENDER = Rule("feedback-sender", 10, 3600)
FEEDBACK_PER_ADDRESS = Rule("feedback-address", 60, 3600)

_NEGATIVE = {"sai", "khong dung", "chua dung", "khong duoc", "vo ich", "chua giup", "khong giup", "chua ro", "te"}


def is_helpful(entity_value: str | None, text: str) -> bool:
    """True for positive feedback: a button's value wins, else the typed words decide."""
    if entity_value in ("yes", "no"):
        return entity_value == "yes"
    plain = " ".join(deaccent(w) for w in words(text))
    padded = f" {plain} "
    return not any(f" {neg} " in padded for neg in _NEGATIVE)


def may_record(limiter: Limiter, sender_id: str, address: str | None = None) -> bool:
    """Whether this feedback is stored (counted per sender, and per address when known)."""
    counted = [(FEEDBACK_PER_SENDER, sender_id)] + ([(FEEDBACK_PER_ADDRESS, address)] if address else [])
    return not any([limiter.hit(rule, key).over for rule, key in counted])

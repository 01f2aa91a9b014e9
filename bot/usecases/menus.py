"""Pinning the order of a topic's menu: the tasks a resident who names a topic without a task ("vneid") sees first as
buttons (bot/replies/topic_menu.py). An admin picks up to MAX_PINS of the topic's active entries in order, or clears
them; the rest of the menu still follows the question log and the default order. The bot reads the pins off the
reply's path and follows a change within a minute (actions/menus.py); no publish is needed.

Audit line: `menu_pin`, the topic, the pinned ids in order (or "bỏ ghim"). Errors: PinRefused, nothing saved."""

from __future__ import annotations

from collections.abc import Sequence

from bot.knowledge.model import TOPICS
from bot.store.knowledge import ACTIVE, KnowledgeStore
from bot.store.menus import MenuPins
from bot.usecases.audit import AuditWriter

MAX_PINS = 4  # = bot.replies.topic_menu.MENU_SIZE: more pins than buttons would never be seen


class PinRefused(ValueError):
    """The pins were not saved; the message says why, in words for the admin page."""


def pin_menu(store: KnowledgeStore, audit: AuditWriter, topic: str, entry_ids: Sequence[str], who: str) -> list[str]:
    """Pin `entry_ids` (in this order) as the first tasks of `topic`'s menu; an empty list clears the pins. Every id
    must be an active entry of the topic, each once. Returns what was pinned."""
    if topic not in TOPICS:
        raise PinRefused(f"Không có chủ đề “{topic}”.")
    ids = [eid.strip() for eid in entry_ids if eid.strip()]
    if len(ids) > MAX_PINS:
        raise PinRefused(f"Chỉ ghim được tối đa {MAX_PINS} mục cho một chủ đề.")
    if len(set(ids)) != len(ids):
        raise PinRefused("Mỗi mục chỉ chọn một lần.")
    for eid in ids:
        stored = store.get(eid)
        if stored is None:
            raise PinRefused(f"Không có mục “{eid}”.")
        if stored.entry.topic != topic:
            raise PinRefused(f"Mục “{eid}” thuộc chủ đề {TOPICS.get(stored.entry.topic, stored.entry.topic)}, "
                             f"không thuộc chủ đề {TOPICS[topic]}.")
        if stored.status != ACTIVE:
            raise PinRefused(f"Mục “{eid}” đang ngừng dùng, không ghim được.")
    MenuPins(store.engine).set_pins(topic, ids, who)
    audit.log(who, "menu_pin", topic, pinned(ids))
    return ids


def pinned(ids: Sequence[str]) -> str:
    """The audit detail of a pin: the ids in order, or that the pins were cleared."""
    return "ghim: " + ", ".join(f"{i}. {eid}" for i, eid in enumerate(ids, start=1)) if ids else "bỏ ghim"

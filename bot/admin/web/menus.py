"""Topic menus ("Menu chủ đề"): what a resident who names a topic without a task ("vneid") is offered as buttons, per
topic, and pinning that order. The menu shown is the bot's own ranking (bot/replies/topic_menu.ranked_tasks): the
pinned entries, then the entries most answered in the question log's last 30 days, then the default order of
knowledge/menus/topic_tasks.yml. Everyone signed in sees it; publishers pin (bot/usecases/menus.py). The bot follows
a new order within a minute, without a publish; it offers only the entries of the release it serves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from starlette.responses import Response
from starlette.routing import Route

from bot.admin.web.auth import guarded
from bot.admin.web.base import Area, Call, redirect, render
from bot.knowledge.model import TOPICS, Entry
from bot.replies import topic_menu
from bot.store.knowledge import ACTIVE
from bot.store.menus import MenuPins
from bot.usecases.menus import MAX_PINS, PinRefused, pin_menu

NOTICES = {"pinned": "Đã lưu thứ tự ghim. Bot dùng thứ tự mới trong khoảng một phút, không cần xuất bản.",
           "cleared": "Đã bỏ ghim. Menu lại theo câu hỏi người dân hỏi nhiều và thứ tự mặc định."}


def _why(entry: Entry, pins: Sequence[str], asked: Mapping[str, int]) -> str:
    """Why an entry is where it is in the menu."""
    if entry.id in pins:
        return "Ghim"
    if asked.get(entry.id, 0):
        return f"Trả lời {asked[entry.id]} lần trong 30 ngày"
    return "Thứ tự mặc định"


def topic_cards(call: Call, chosen: Mapping[str, Sequence[str]] | None = None) -> list[dict]:
    """One card per topic: its menu as residents see it, its pins, and the entries one may pin (`chosen`: what the
    admin had selected when a save was refused, kept in the form)."""
    active = [s.entry for s in call.admin.store.list(status=ACTIVE)]
    by_id = {e.id: e for e in active}
    every = {s.id: s for s in call.admin.store.list()}
    defaults = topic_menu.load_defaults(call.admin.settings.knowledge_dir / "menus" / "topic_tasks.yml")
    repo = MenuPins(call.admin.store.engine)
    asked, all_pins = repo.answered_counts(), repo.all_pins()
    cards = []
    for topic, name in TOPICS.items():
        pins = all_pins.get(topic, [])
        ranked = topic_menu.ranked_tasks(topic, by_id, defaults.get(topic, []), asked, pins)[:topic_menu.MENU_SIZE]
        selected = list(chosen.get(topic, pins) if chosen else pins)
        cards.append({
            "topic": topic, "name": name,
            "menu": [{"entry": e, "why": _why(e, pins, asked)} for e in ranked],
            "pins": [{"id": eid, "title": every[eid].entry.title if eid in every else eid,
                      "served": eid in by_id} for eid in pins],
            "pinned_by": repo.pinned_by(topic) if pins else None,
            "choices": sorted((e for e in active if e.topic == topic), key=lambda e: e.title),
            "selected": [*selected, *[""] * MAX_PINS][:MAX_PINS],
        })
    return cards


def show(call: Call, code: int = 200, error: dict | None = None, chosen: Mapping[str, Sequence[str]] | None = None,
         notice: str | None = None) -> Response:
    return render(call, "menus.html", code, cards=topic_cards(call, chosen), error=error or {},
                  can_pin=call.user.can("publish"), max_pins=MAX_PINS, notice=notice)


@guarded()
def menus_page(call: Call) -> Response:
    return show(call, notice=NOTICES.get(call.request.query_params.get("done", "")))


@guarded(permission="publish")
def pin(call: Call) -> Response:
    """Save the topic's pins (select boxes pin1..pin4, empty ones skipped), or clear them."""
    topic = call.request.path_params["topic"]
    clear = bool(call.field("clear"))
    ids = [] if clear else [call.field(f"pin{i}") for i in range(1, MAX_PINS + 1)]
    try:
        pin_menu(call.admin.store, call.admin.accounts, topic, ids, call.user.username)
    except PinRefused as err:
        if topic not in TOPICS:
            return render(call, "error.html", 404, title="Không có chủ đề này", message=str(err))
        return show(call, 400, error={"topic": topic, "message": str(err)}, chosen={topic: ids})
    return redirect(f"/menus?done={'cleared' if clear else 'pinned'}#menu-{topic}")


AREA = Area("menus", [
    Route("/menus", menus_page, methods=["GET"]),
    Route("/menus/{topic}", pin, methods=["POST"]),
], label="Menu chủ đề", path="/menus")

"""The web chat page's inbox: staff replies to a resident's ticket, fetched by the page (it cannot be pushed to).

GET /webhooks/webchat/inbox?sender=web-<24 hex>&after=<last message id seen> answers
`{"messages": [{"id", "text", "kind", "label"}], "open": bool}`. Only the page's own random ids are accepted, so
nobody can read a Telegram or Zalo resident's replies by guessing an id. Runs in the Rasa server (SQLAlchemy 1.4).
"""

from __future__ import annotations

from bot.store.tickets import STAFF, Tickets
from bot.tickets import STAFF_LABEL, WEB_SENDER

MAX_AFTER = 2**53  # what JavaScript's numbers hold exactly
BAD_SENDER = "Mã cuộc trò chuyện không hợp lệ."
BAD_AFTER = "Tham số after phải là số nguyên không âm."
UNAVAILABLE = "Hệ thống đang bận, bạn thử lại sau ít phút."


def read_inbox(store_url: str, sender: str | None, after: str | None) -> tuple[int, dict]:
    """(HTTP status, JSON body) for one poll."""
    if not sender or not WEB_SENDER.match(sender):
        return 400, {"error": BAD_SENDER}
    seen: int | None = None
    if after not in (None, ""):
        if not after.isdigit() or int(after) > MAX_AFTER:
            return 400, {"error": BAD_AFTER}
        seen = int(after)
    try:
        store = Tickets.open(store_url)
        messages = store.inbox(sender, seen)
        still_open = store.has_open(sender)
    except Exception:  # the database is unreachable: the page tries again later
        return 503, {"error": UNAVAILABLE}
    return 200, {
        "messages": [{"id": m.id, "text": m.text, "kind": m.kind, "label": STAFF_LABEL if m.kind == STAFF else ""}
                     for m in messages],
        "open": still_open,
    }

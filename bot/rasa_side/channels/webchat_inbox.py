"""The web chat page's inbox: staff replies to a resident's ticket, fetched by the page (it cannot be pushed to).

GET /webhooks/webchat/inbox?after=<last message id seen> with the conversation id in the X-Webchat-Sender header
(never in the URL, which proxies log) answers `{"messages": [{"id", "text", "kind", "label"}], "open": bool}`. Only
web ids with at least 24 characters after `web-` are accepted (the page's are 96 random bits), so nobody can read a
Telegram or Zalo resident's replies, or guess a short one. Runs in the Rasa server (SQLAlchemy 1.4).
"""

from __future__ import annotations

import re

from bot.handoff.tickets import STAFF_LABEL
from bot.rasa_side.channels.validation import INBOX_SENDER
from bot.store.tickets import STAFF, Tickets

SENDER_HEADER = "X-Webchat-Sender"
MAX_AFTER = 2**53  # what JavaScript's numbers hold exactly
AFTER = re.compile(r"[0-9]{1,16}")  # ASCII digits only: str.isdigit() also takes "²", which int() refuses
BAD_SENDER = "Mã cuộc trò chuyện không hợp lệ."
SENDER_IN_URL = f"Mã cuộc trò chuyện phải gửi trong header {SENDER_HEADER}, không gửi trong địa chỉ."
BAD_AFTER = "Tham số after phải là số nguyên không âm."
UNAVAILABLE = "Hệ thống đang bận, bạn thử lại sau ít phút."


def read_inbox(store_url: str, sender: str | None, after: str | None) -> tuple[int, dict]:
    """(HTTP status, JSON body) for one poll."""
    if not sender or not INBOX_SENDER.fullmatch(sender):
        return 400, {"error": BAD_SENDER}
    seen: int | None = None
    if after not in (None, ""):
        if not AFTER.fullmatch(after) or int(after) > MAX_AFTER:
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

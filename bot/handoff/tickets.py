"""Pure rules of a ticket's life: which conversation it keeps, where a resident is reached, what each side is
told. The store is bot/store/tickets.py; delivery is bot/handoff/notify.py; the actions are actions/tickets.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.limits import Limiter, Rule
from bot.core.privacy import mask
from bot.core.text import deaccent

HISTORY_TURNS = 10  # user and bot messages kept from the conversation before the handoff
HISTORY_CHARS = 600  # per message: a long answer is recognisable from its start
STAFF_LABEL = "Cán bộ hỗ trợ"
BUTTON_PRESSED = "(bấm nút)"  # a button's payload ("/request_human") is code, not the resident's words

TELEGRAM, ZALO, WEBCHAT, REST = "telegram", "zalo", "webchat", "rest"
CHANNEL_NAMES = {TELEGRAM: "Telegram", ZALO: "Zalo", WEBCHAT: "Trang web", REST: "REST"}

# "Quay lại trợ lý ảo" and the like, read by rule as well as by NLU: while a ticket is open every message goes to
# the staff, so the way back must not depend on the intent classifier's confidence.
_LEAVE = re.compile(
    r"^/?leave_ticket$"
    r"|\b(quay (lai|ve)|tro (lai|ve)|noi chuyen (voi|vs)) (voi |vs )?(tro ly ao|tro ly|chatbot|bot)\b"
    r"|\b(thoi|khong|ko|k) can (gap )?(can bo|nguoi ho tro|nguoi that) nua\b"
    r"|^huy (yeu cau|ticket)\b"
)
LEAVE_MAX_WORDS = 10  # a longer message that mentions the assistant is something for the staff to read


@dataclass(frozen=True)
class Reach:
    """How a resident is reached: by the channel's push API (`address`), or by the web page polling its inbox."""

    channel: str
    address: str | None  # Telegram chat id, Zalo user id; None when the resident must come and fetch (web page, REST)


def channel_of(sender_id: str, input_channel: str | None = None) -> str:
    """The resident's channel from the conversation id (the Telegram relay talks to Rasa over REST)."""
    if sender_id.startswith("tg-"):
        return TELEGRAM
    if sender_id.startswith("zalo-"):
        return ZALO
    if sender_id.startswith("web-"):  # the public door files every sender under web-
                                      # (bot/rasa_side/channels/validation.py)
        return WEBCHAT
    return REST if input_channel in (None, "", "rest") else str(input_channel)[:20]


def reach(sender_id: str) -> Reach:
    """Where a staff reply goes for this conversation id."""
    channel = channel_of(sender_id)
    if channel == TELEGRAM and re.fullmatch(r"-?\d+", sender_id[3:]):
        return Reach(TELEGRAM, sender_id[3:])
    if channel == ZALO and sender_id[5:]:
        return Reach(ZALO, sender_id[5:])
    return Reach(channel, None)


def wants_the_bot_back(text: str) -> bool:
    """The resident asks to talk to the assistant again ("quay lại trợ lý ảo", "/leave_ticket")."""
    words = re.findall(r"[a-z0-9_/]+", deaccent(text or "").lower())
    return len(words) <= LEAVE_MAX_WORDS and bool(_LEAVE.search(" ".join(words)))


def conversation(events: Iterable[Mapping[str, Any]], turns: int = HISTORY_TURNS) -> list[tuple[str, str]]:
    """The last `turns` user and bot messages of a tracker's events, masked, as (kind, text), oldest first.
    Button payloads ("/request_human") are shown as the pressed button, not as code."""
    out: list[tuple[str, str]] = []
    for event in events:
        kind = event.get("event")
        text = event.get("text")
        if kind == "user" and isinstance(text, str) and text.strip():
            if text.startswith("/"):
                text = BUTTON_PRESSED
            out.append(("resident", mask(text.strip())[:HISTORY_CHARS]))
        elif kind == "bot" and isinstance(text, str) and text.strip():
            out.append(("bot", mask(text.strip())[:HISTORY_CHARS]))
    return out[-turns:]


def resident_words(history: list[tuple[str, str]], count: int = 3) -> str:
    """The resident's last few typed messages, for the team's notice."""
    typed = [text for kind, text in history if kind == "resident" and text != BUTTON_PRESSED]
    return " · ".join(typed[-count:])


def acknowledgement(code: str) -> str:
    """The short note after the resident's message reached the ticket (once per staff reply)."""
    return (f"Đã chuyển tin nhắn của bạn tới cán bộ (mã {code}). Cán bộ sẽ trả lời tại đây. "
            "Muốn hỏi trợ lý ảo, bạn bấm “Quay lại trợ lý ảo”.")


def left_ticket(code: str) -> str:
    return (f"Bạn đã quay lại trợ lý ảo, bạn cứ hỏi tôi nhé. Yêu cầu {code} vẫn mở: khi cán bộ trả lời, bạn vẫn nhận "
            "được tại đây. Muốn nhắn tiếp cho cán bộ, bạn gõ “gặp người hỗ trợ”.")


NO_TICKET = "Bạn đang nói chuyện với trợ lý ảo. Bạn cứ gõ câu hỏi, hoặc gõ “gặp người hỗ trợ” để nhắn cho cán bộ."
LEFT_NOTE = (
    "Người dân đã quay lại trợ lý ảo: tin nhắn sau đó của họ do trợ lý ảo trả lời "
    "(câu trả lời của cán bộ vẫn được gửi tới họ)."
)
BACK_NOTE = "Người dân lại yêu cầu gặp cán bộ."


# Each new ticket posts to the team's group, so opening them is limited: per sender per day (a resident rarely needs
# more than one or two; a ticket stays open until staff close it), per client address where the door knows it
# (the web page mints a new sender per visit; an office or a phone network shares addresses, hence looser), and
# for everyone together per hour, which bounds what a flood of made-up senders can post to the team.
TICKETS_PER_SENDER = Rule("tickets-sender", 3, 24 * 3600)
TICKETS_PER_ADDRESS = Rule("tickets-address", 10, 24 * 3600)
TICKETS_PER_HOUR = Rule("tickets-all", 60, 3600)
TOO_MANY_TICKETS = "Hôm nay bạn đã gửi nhiều yêu cầu gặp cán bộ; cán bộ sẽ trả lời các yêu cầu đã gửi."
BUSY_TEAM = "Lúc này có rất nhiều yêu cầu gặp cán bộ nên chưa mở thêm được yêu cầu mới."


def ticket_refusal(limiter: Limiter, sender_id: str, address: str | None = None) -> str | None:
    """None when this sender may open a ticket now (counted before opening it); else the first line of the polite
    reply (the caller adds the commune's contacts). A refused request gives its counts back."""
    counted = [(TICKETS_PER_SENDER, sender_id)] + ([(TICKETS_PER_ADDRESS, address)] if address else [])
    counted.append((TICKETS_PER_HOUR, "all"))
    hits = [limiter.hit(rule, key) for rule, key in counted]
    if not any(hit.over for hit in hits):
        return None
    for rule, key in counted:
        limiter.undo(rule, key)
    return BUSY_TEAM if hits[-1].over and not any(hit.over for hit in hits[:-1]) else TOO_MANY_TICKETS


def staff_reply(code: str, text: str) -> str:
    """A staff reply as the resident sees it on Telegram or Zalo (the web page labels its bubble itself)."""
    return f"{STAFF_LABEL} (yêu cầu {code}):\n{text}"


def closing_note(code: str, resolution: str) -> str:
    """What the resident is told when staff close the ticket."""
    return (f"Cán bộ đã hoàn tất yêu cầu {code}.\nKết quả: {resolution}\n"
            "Bạn có thể hỏi lại trợ lý ảo bất cứ lúc nào, hoặc gõ “gặp người hỗ trợ” nếu cần cán bộ giúp tiếp.")


def team_notice(code: str, commune: str, topic: str, channel: str, last_words: str, admin_url: str = "") -> str:
    """The message to the commune's team about a new ticket (masked: the team chat is not the admin page)."""
    lines = [f"🔔 Yêu cầu hỗ trợ mới {code}",
             f"Xã/phường: {commune or 'chưa rõ'}",
             f"Chủ đề: {topic or 'chưa rõ'} · Kênh: {CHANNEL_NAMES.get(channel, channel)}"]
    if last_words:
        lines.append(f"Người dân viết: “{mask(last_words)[:300]}”")
    lines.append(f"Trả lời trên trang quản trị: {admin_url.rstrip('/')}/tickets/{code}" if admin_url
                 else "Trả lời trên trang quản trị, mục Yêu cầu hỗ trợ.")
    return "\n".join(lines)

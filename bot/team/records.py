"""A team member records "helped a resident with X" in the chat ("ghi nhận: giúp bà Lan kích hoạt VNeID"), for the
commune's monthly report (bot/store/activity.py, downloaded from the admin page as CSV).

Helper mode keeps no code in a slot (bot/team/mode.py), so the member is found from the conversation: the message that
turned helper mode on carries the code, which is checked again against BOT_HELPER_CODES and stored only as a hash
(`member_ref`). Pure: the action (actions/help_records.py) does the I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from bot.core.text import deaccent
from bot.store.activity import member_ref
from bot.team import mode as helper

# "ghi nhận", "ghi nhan:", "/ghi_nhan", "báo cáo đã hỗ trợ": what is left after the cue is the note.
_CUE = re.compile(r"^\s*(/ghi_nhan|ghi nhan|bao cao( da)? (ho tro|giup))\b[\s:,.-]*", re.IGNORECASE)
MAX_NOTE = 300

NOT_HELPER = ("Chỉ thành viên Tổ công nghệ số mới ghi nhận lượt hỗ trợ. Bạn bật chế độ tổ bằng: /helper MÃ-CỦA-TỔ, "
              "rồi gõ “ghi nhận: giúp bà Lan kích hoạt VNeID”.")
NO_MEMBER = ("Tôi chưa xác định được bạn là thành viên nào (chế độ tổ được bật từ lâu). Bạn gõ lại /helper MÃ-CỦA-TỔ "
             "rồi ghi nhận nhé.")
HOW_TO = "Bạn ghi rõ đã giúp việc gì, ví dụ: “ghi nhận: giúp bà Lan kích hoạt VNeID”."
UNAVAILABLE = "Xin lỗi, lúc này chưa ghi nhận được. Bạn thử lại sau ít phút nhé."


def note_of(text: str) -> str:
    """The note in a record message: the words after the cue (accents kept), or the whole message."""
    text = unicodedata.normalize("NFC", text or "")
    plain = deaccent(text)
    match = _CUE.match(plain)
    # one letter stays one letter in NFC, so the cue's end in the plain text is its end in the original
    rest = text[match.end():] if match and len(plain) == len(text) else text
    return " ".join(rest.split())[:MAX_NOTE]


def member_from_events(events: Iterable[Mapping[str, Any]], codes: tuple[str, ...]) -> str | None:
    """The member behind the latest switch into helper mode: the hash of the code in the message that did it."""
    last_text = None
    member = None
    for event in events:
        if event.get("event") == "user":
            last_text = event.get("text") or ""
        elif event.get("event") == "slot" and event.get("name") == "helper_mode":
            if event.get("value") is True and last_text is not None:
                attempt = helper.login_attempt(last_text)
                if attempt is not None and attempt.code is not None and helper.is_valid_code(attempt.code, codes):
                    member = member_ref(attempt.code)
            elif not event.get("value"):
                member = None
    return member


def recorded(note: str, topic_name: str, commune: str) -> str:
    """The confirmation a member sees."""
    where = f", {commune}" if commune else ""
    about = f" (chủ đề: {topic_name}{where})" if topic_name or commune else ""
    return (f"Đã ghi nhận lượt hỗ trợ: “{note}”{about}. Cảm ơn bạn! Cuối tháng, xã/phường tải báo cáo ở trang quản "
            "trị, mục Yêu cầu hỗ trợ → Báo cáo tổ công nghệ số.")

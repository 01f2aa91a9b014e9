"""The replies that bring in a person: which commune, who to contact there, the ticket that staff will answer.

Pure: the directory (bot/handoff/directory.py) and the ticket code come in, texts and buttons go out.
"""

from __future__ import annotations

from bot.handoff.directory import UNKNOWN, Commune, Contacts, Directory

__all__ = [
    "LEAVE_BUTTON",
    "LEAVE_PAYLOAD",
    "NOT_SURE_BUTTON",
    "Contacts",
    "ambiguous_commune",
    "ask_commune",
    "ask_commune_in",
    "handoff_text",
    "ticket_opened",
    "ticket_still_open",
]

LEAVE_PAYLOAD = "/leave_ticket"
LEAVE_BUTTON = {"title": "Quay lại trợ lý ảo", "payload": LEAVE_PAYLOAD}
NOT_SURE_BUTTON = {"title": "Không rõ / nơi khác", "payload": UNKNOWN}
MAX_COMMUNE_BUTTONS = 5  # more than this is a list nobody reads on a phone: the resident types instead
SAFETY_LINE = "Không đưa mã OTP, mật khẩu cho bất kỳ ai, kể cả cán bộ."


def handoff_text(contacts: Contacts, topic: str | None = None) -> str:
    """Tell the resident, plainly, which people can help and how to reach them."""
    lines = [f"Bạn cần người hỗ trợ trực tiếp? Bạn có thể liên hệ ở {contacts.commune}:"]
    lines += _contact_lines(contacts, topic)
    lines.append("Khi đi, mang theo thẻ căn cước và điện thoại. Không đưa mã OTP, mật khẩu cho bất kỳ ai.")
    return "\n".join(lines)


def _contact_lines(contacts: Contacts, topic: str | None) -> list[str]:
    lines = [f"- {p['name']}: {p['how']}" for p in contacts.people if p.get("name")]
    if contacts.office_hours:
        lines.append(f"Thời gian làm việc: {contacts.office_hours}.")
    hotline = contacts.hotline(topic)
    if hotline:
        lines.append(f"Gọi tổng đài: {hotline}.")
    return lines


def commune_button(commune: Commune) -> dict:
    return {"title": commune.name if len(commune.name) <= 30 else commune.name[:29] + "…", "payload": commune.label}


def ask_commune(directory: Directory) -> tuple[str, list[dict]]:
    """The one question before a ticket: which commune, so the right team answers."""
    text = ("Để chuyển bạn tới cán bộ hỗ trợ (Tổ công nghệ số cộng đồng) đúng nơi, bạn cho biết bạn ở xã/phường "
            "nào? Bạn gõ tên xã/phường, có dấu hay không dấu đều được, ví dụ: “phường Hoàn Kiếm, Hà Nội”.")
    buttons = [commune_button(c) for c in directory.served_if_few(MAX_COMMUNE_BUTTONS)]
    return text, [*buttons, NOT_SURE_BUTTON]


def ambiguous_commune(candidates: tuple[Commune, ...]) -> tuple[str, list[dict]]:
    """Several communes share the name the resident typed: let them pick by province."""
    buttons = [{"title": f"{c.name} ({c.province})"[:40], "payload": c.label} for c in candidates[:MAX_COMMUNE_BUTTONS]]
    return "Có nhiều xã/phường cùng tên này. Bạn ở tỉnh/thành phố nào? Bạn chọn hoặc gõ cả tên tỉnh nhé.", \
        [*buttons, NOT_SURE_BUTTON]


def ask_commune_in(province: str) -> tuple[str, list[dict]]:
    """Only a province was named: which commune of it (typed; a province has dozens of communes)."""
    return (f"Bạn ở xã/phường nào của {province}? Bạn gõ tên xã/phường, tên cũ trước 7/2025 cũng được.",
            [NOT_SURE_BUTTON])


def ticket_opened(code: str, contacts: Contacts, topic: str | None = None) -> str:
    """The reply that opens a ticket: its code, what happens next, and the contacts to reach people directly."""
    lines = [
        f"Tôi đã chuyển yêu cầu của bạn tới cán bộ hỗ trợ của {contacts.commune}. Mã yêu cầu của bạn: {code}.",
        "Từ giờ, tin nhắn bạn gửi ở đây sẽ được chuyển tới cán bộ. Cán bộ trả lời ngay trong cuộc trò chuyện này"
        + (f", trong giờ làm việc ({contacts.office_hours})." if contacts.office_hours else "."),
        "Bạn cũng có thể liên hệ trực tiếp:",
    ]
    lines += _contact_lines(contacts, topic)
    lines.append("Muốn hỏi lại trợ lý ảo, bạn bấm “Quay lại trợ lý ảo”. " + SAFETY_LINE)
    return "\n".join(lines)


def ticket_still_open(code: str) -> str:
    """A resident who left the ticket asks for a person again: the same ticket, not a new one."""
    return (f"Yêu cầu {code} của bạn vẫn đang mở. Từ giờ, tin nhắn bạn gửi ở đây lại được chuyển tới cán bộ. "
            "Muốn hỏi lại trợ lý ảo, bạn bấm “Quay lại trợ lý ảo”.")

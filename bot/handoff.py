"""The reply that brings in a person: who to contact for this commune and which hotline fits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Contacts:
    """The configurable directory behind the handoff reply."""

    commune: str
    people: list[dict]
    office_hours: str
    hotlines: dict[str, str]

    @classmethod
    def load(cls, path: Path) -> Contacts:
        """Read the contacts file (re-read on every handoff, so edits apply at once)."""
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls(
            commune=str(data.get("commune", "xã/phường nơi bạn cư trú")),
            people=list(data.get("people", [])),
            office_hours=str(data.get("office_hours", "")),
            hotlines={str(k): str(v) for k, v in (data.get("hotlines") or {}).items()},
        )

    def hotline(self, topic: str | None) -> str:
        """The hotline for a topic, or the default one."""
        return self.hotlines.get(topic or "", self.hotlines.get("default", ""))


def handoff_text(contacts: Contacts, topic: str | None = None) -> str:
    """Tell the resident, plainly, which people can help and how to reach them."""
    lines = [f"Bạn cần người hỗ trợ trực tiếp? Bạn có thể liên hệ ở {contacts.commune}:"]
    lines += [f"- {p['name']}: {p['how']}" for p in contacts.people if p.get("name")]
    if contacts.office_hours:
        lines.append(f"Thời gian làm việc: {contacts.office_hours}.")
    hotline = contacts.hotline(topic)
    if hotline:
        lines.append(f"Gọi tổng đài: {hotline}.")
    lines.append("Khi đi, mang theo thẻ căn cước và điện thoại. Không đưa mã OTP, mật khẩu cho bất kỳ ai.")
    return "\n".join(lines)

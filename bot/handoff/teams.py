"""Team contacts: who helps the residents of a commune and where its new tickets are announced, mapped by the local
digital-transformation office on the admin page ("Liên hệ theo xã/phường", kept in the store) or listed in
contacts.yml; a province's contact is the fallback for every commune of it that has none of its own.

- `Team`: one mapping, a commune or a whole province, with its people, office hours and notification target.
- `cascade`: the resolution order, field by field: the commune's own contact, else its province's, else the default.
- `pick_place`: the commune (or province) an admin typed, with or without diacritics, old names too (bot/places), so
  only real units are saved; an ambiguous name gives the choices.
- `read_fields`: the admin's typed contact fields checked and parsed; what is wrong is said per field, in Vietnamese.

Pure: no I/O (the store keeps a team as `Team.data()`; bot/usecases/teams.py does the saving and the audit line).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot import places

COMMUNE, PROVINCE = "commune", "province"
KINDS = (COMMUNE, PROVINCE)
# Where a resolved field came from, as the admin page and the log name it.
FROM_COMMUNE, FROM_PROVINCE, FROM_DEFAULT = "xã/phường", "tỉnh/thành phố (dự phòng)", "mặc định (contacts.yml)"

MAX_PEOPLE = 8
MAX_ZALO_USERS = 10
MAX_NAME, MAX_HOW, MAX_HOURS = 120, 300, 200
MAX_CHOICES = 12  # an ambiguous name: more than this is a name to type more precisely
TELEGRAM_CHAT = re.compile(r"-?[0-9]{1,20}")  # a group's id is a negative number (-100…); a person's, positive
ZALO_USER = re.compile(r"[0-9]{1,25}")  # the id Zalo gives a follower of the OA


@dataclass(frozen=True)
class Target:
    """Where the team hears of a new ticket: a Telegram group chat and/or Zalo users (team members following the OA)."""

    telegram_chat: str = ""
    zalo_users: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.telegram_chat or self.zalo_users)

    @classmethod
    def parse(cls, data: Any) -> Target:
        data = data if isinstance(data, Mapping) else {}
        chat = data.get("telegram_chat")
        users = data.get("zalo_users") or []
        if isinstance(users, (str, int)):
            users = [users]
        usernames = tuple(str(u).strip() for u in users if str(u).strip())
        return cls(str(chat).strip() if chat not in (None, "") else "", usernames)

    def data(self) -> dict:
        return {"telegram_chat": self.telegram_chat, "zalo_users": list(self.zalo_users)}

    def describe(self) -> str:
        """For the admin page and the audit log: the Telegram group's id and how many Zalo users (their ids are
        people's)."""
        parts = [f"nhóm Telegram {self.telegram_chat}"] if self.telegram_chat else []
        parts += [f"{len(self.zalo_users)} người dùng Zalo"] if self.zalo_users else []
        return ", ".join(parts) or "chưa có"


@dataclass(frozen=True)
class Team:
    """One team contact: for a commune (its label "Xã Phù Đổng, Thành phố Hà Nội") or, as the fallback of all its
    communes, a province (its name "Thành phố Hà Nội"). `code` is the official code (0: a commune contacts.yml lists
    by name only). Empty fields are taken from the next level down (`cascade`)."""

    kind: str
    label: str
    code: int = 0
    people: tuple[tuple[str, str], ...] = ()  # (name, how to reach them)
    office_hours: str = ""
    notify: Target = field(default_factory=Target)

    def data(self) -> dict:
        """What the store keeps besides kind, code and label."""
        return {"people": [{"name": n, "how": h} for n, h in self.people], "office_hours": self.office_hours,
                "notify": self.notify.data()}

    @classmethod
    def from_data(cls, kind: str, code: int, label: str, data: Any) -> Team:
        data = data if isinstance(data, Mapping) else {}
        return cls(kind, label, code, people_of(data.get("people")), str(data.get("office_hours") or "").strip(),
                   Target.parse(data.get("notify")))

    def people_dicts(self) -> list[dict]:
        return [{"name": n, "how": h} for n, h in self.people]


def people_of(value: Any) -> tuple[tuple[str, str], ...]:
    """People as contacts.yml writes them ([{name, how}]), those without a name dropped."""
    items = value if isinstance(value, list) else []
    return tuple((str(p["name"]).strip(), str(p.get("how") or "").strip())
                 for p in items if isinstance(p, Mapping) and str(p.get("name") or "").strip())


@dataclass(frozen=True)
class Resolved:
    """A commune's contact after the cascade, and where its notification target came from (FROM_*; "" when none)."""

    people: tuple[tuple[str, str], ...]
    office_hours: str
    notify: Target
    notify_from: str


def cascade(levels: Sequence[tuple[str, Team | None]], default: Team) -> Resolved:
    """Each field from the first level that has it: levels are (FROM_*, team or None), most specific first (the
    commune's own contact, then its province's), and `default` (contacts.yml's top level) comes last."""
    chain = [(where, team) for where, team in levels if team is not None] + [(FROM_DEFAULT, default)]
    people = next((t.people for _, t in chain if t.people), ())
    hours = next((t.office_hours for _, t in chain if t.office_hours), "")
    notify_from, notify = next(((w, t.notify) for w, t in chain if t.notify), ("", Target()))
    return Resolved(people, hours, notify, notify_from)


@dataclass(frozen=True)
class Place:
    """A real unit an admin may map: a commune of the current map or a province."""

    kind: str
    code: int
    label: str  # a commune's "Xã Phù Đổng, Thành phố Hà Nội"; a province's name
    province: str  # the province's name (a province's own)


@dataclass(frozen=True)
class Pick:
    """What an admin's typed name picks: one place, or choices to pick from, or a problem to show; `old_names` are the
    pre-7/2025 units the answer came through ("Xã Yên Thường, Huyện Gia Lâm, …" now in Xã Phù Đổng)."""

    place: Place | None = None
    choices: tuple[Place, ...] = ()
    problem: str = ""
    old_names: tuple[str, ...] = ()


def commune_place(commune: places.Commune) -> Place:
    return Place(COMMUNE, commune.code, commune.label, commune.province.name)


def province_place(province: places.Province) -> Place:
    return Place(PROVINCE, province.code, province.name, province.name)


def place_by_code(kind: str, code: int) -> Place | None:
    """The unit with this official code, None when there is none (a form that was tampered with, or stale data)."""
    table = places.gazetteer()
    if kind == COMMUNE:
        commune = table.communes.get(code)
        return commune_place(commune) if commune else None
    province = table.provinces.get(code) if kind == PROVINCE else None
    return province_place(province) if province else None


def pick_place(kind: str, typed: str) -> Pick:
    """The commune (kind COMMUNE) or province (PROVINCE) an admin named, read like a resident's words (bot/places)."""
    text = " ".join(str(typed or "").split())
    if kind not in KINDS:
        return Pick(problem="Hãy chọn: liên hệ của một xã/phường, hay liên hệ dự phòng của cả tỉnh/thành phố.")
    if not text:
        return Pick(problem="Hãy gõ tên xã/phường." if kind == COMMUNE else "Hãy gõ tên tỉnh/thành phố.")
    found = places.resolve(text)
    if kind == PROVINCE:
        provinces = [found.province] if found.province else list(dict.fromkeys(c.province for c in found.communes))
        if len(provinces) == 1:
            return Pick(province_place(provinces[0]))
        if provinces:
            return Pick(choices=tuple(province_place(p) for p in provinces[:MAX_CHOICES]))
        return Pick(problem=f"Không tìm thấy tỉnh/thành phố “{text}” trong danh mục 34 tỉnh/thành phố từ 1/7/2025.")
    if found.commune is not None:
        return Pick(commune_place(found.commune), old_names=found.old_names)
    if found.ambiguous:
        if len(found.communes) > MAX_CHOICES:
            return Pick(problem=f"Có {len(found.communes)} xã/phường tên “{text}”. Hãy gõ thêm tên tỉnh/thành phố, "
                                "ví dụ “xã Tân Lập, Đồng Nai”.")
        return Pick(choices=tuple(commune_place(c) for c in found.communes), old_names=found.old_names)
    if found.province is not None:
        return Pick(problem=f"“{text}” là {found.province.name}, chưa có tên xã/phường. Hãy gõ tên xã/phường, hoặc "
                            "chọn “Cả tỉnh/thành phố” để đặt liên hệ dự phòng cho mọi xã/phường của tỉnh.")
    return Pick(problem=f"Không tìm thấy xã/phường “{text}” trong danh mục sau sắp xếp 7/2025 (tên cũ trước 7/2025 "
                        "cũng được, ví dụ “xã Yên Thường, huyện Gia Lâm, Hà Nội”).")


@dataclass(frozen=True)
class Fields:
    """The contact fields of the admin's form, parsed."""

    people: tuple[tuple[str, str], ...] = ()
    office_hours: str = ""
    notify: Target = field(default_factory=Target)


def read_fields(telegram_chat: str, zalo_users: str, people: str, office_hours: str) -> tuple[Fields, dict[str, str]]:
    """The typed fields, and what is wrong with them by field name (empty: they may be saved). A team needs somewhere
    to be told of tickets: a Telegram group, Zalo users, or both."""
    problems: dict[str, str] = {}
    chat = "".join(str(telegram_chat or "").split())
    if chat and not TELEGRAM_CHAT.fullmatch(chat):
        problems["telegram_chat"] = ("Mã nhóm Telegram là một dãy số; nhóm có mã âm, ví dụ -1001234567890 "
                                     "(thêm bot vào nhóm rồi xem mã nhóm).")
    users = [u for u in re.split(r"[\s,;]+", str(zalo_users or "")) if u]
    if any(not ZALO_USER.fullmatch(u) for u in users):
        problems["zalo_users"] = "Mã người dùng Zalo là một dãy số, mỗi người một dòng (người đó cần quan tâm OA)."
    elif len(users) > MAX_ZALO_USERS:
        problems["zalo_users"] = f"Tối đa {MAX_ZALO_USERS} người dùng Zalo; nhiều hơn, hãy dùng một nhóm Telegram."
    if not chat and not users:
        problems["telegram_chat"] = "Cần ít nhất một nơi nhận thông báo: mã nhóm Telegram hoặc mã người dùng Zalo."
    found, people_problem = _people_lines(people)
    if people_problem:
        problems["people"] = people_problem
    hours = " ".join(str(office_hours or "").split())
    if len(hours) > MAX_HOURS:
        problems["office_hours"] = f"Giờ làm việc dài quá {MAX_HOURS} ký tự."
    return Fields(found, hours, Target(chat, tuple(dict.fromkeys(users)))), problems


def _people_lines(text: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """'Tên: cách liên hệ' lines into (name, how) pairs, or the first problem."""
    found = []
    for number, line in enumerate(str(text or "").replace("\r\n", "\n").split("\n"), 1):
        line = line.strip().lstrip("-•* ").strip()
        if not line:
            continue
        name, colon, how = line.partition(":")
        name, how = name.strip(), how.strip()
        if not colon or not name or not how:
            return (), f"Dòng {number}: cần dạng “Tên: cách liên hệ”, ví dụ “Tổ công nghệ số: gọi chị Lan, tổ trưởng”."
        if len(name) > MAX_NAME or len(how) > MAX_HOW:
            return (), f"Dòng {number} dài quá (tên tối đa {MAX_NAME}, cách liên hệ tối đa {MAX_HOW} ký tự)."
        found.append((name, how))
    if len(found) > MAX_PEOPLE:
        return (), f"Tối đa {MAX_PEOPLE} dòng người liên hệ."
    return tuple(found), ""


def people_text(team: Team) -> str:
    """The people as the form shows them, one 'Tên: cách liên hệ' a line."""
    return "\n".join(f"{name}: {how}" for name, how in team.people)

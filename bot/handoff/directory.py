"""The commune directory behind the handoff (`contacts.yml`): who helps residents of each commune, when, and
where new tickets are announced.

Since 1/7/2025 local government has two tiers: province (tỉnh/thành phố) and commune (xã, phường, đặc khu); there
is no district any more. So a commune is a name and its province. The file's top level holds the defaults (the
contacts for a resident whose commune is unknown or not listed) and the topic hotlines; `communes:` lists the
communes this deployment serves. Residents type their commune any way they like ("phuong hoan kiem", "Hoàn Kiếm
Hà Nội"): matching ignores diacritics, case, the type word and punctuation.

Every commune of the current map is recognised (bot/places: the 34 provinces and their communes, and old
district-based addresses converted); a commune not listed in the file gets the default contacts under its own name.

Pure: no I/O except `Directory.load`, which reads the file on every call so edits apply without a restart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from bot import places
from bot.core.text import deaccent

UNKNOWN = "không rõ"  # the slot value once asked: the resident's commune is unknown or not in the directory
DEFAULT_PLACE = "xã/phường nơi bạn cư trú"
TYPE_WORDS = ("xa", "phuong", "dac khu", "thi tran")  # thị trấn: older names residents still use


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


@dataclass(frozen=True)
class Contacts:
    """What the resident is told: the place, the people and how to reach them, office hours, topic hotlines."""

    commune: str
    people: list[dict]
    office_hours: str
    hotlines: dict[str, str]

    @classmethod
    def load(cls, path: Path) -> Contacts:
        """The default contacts of a contacts file."""
        return Directory.load(path).defaults

    def hotline(self, topic: str | None) -> str:
        """The hotline for a topic, or the default one."""
        return self.hotlines.get(topic or "", self.hotlines.get("default", ""))


@dataclass(frozen=True)
class Commune:
    """One commune-level unit the deployment serves."""

    name: str  # "Phường Hoàn Kiếm"
    province: str  # "Thành phố Hà Nội"
    aliases: tuple[str, ...]
    contacts: Contacts
    notify: Target
    example: bool = False  # shipped as an example: replace with the real communes

    @property
    def label(self) -> str:
        """How the commune is written in the slot, the ticket and the admin page."""
        return f"{self.name}, {self.province}" if self.province else self.name

    def keys(self) -> list[str]:
        """The plain (de-accented) word sequences that name this commune."""
        found = {plain_words(self.name), strip_type(plain_words(self.name))}
        found |= {plain_words(a) for a in self.aliases}
        return [k for k in found if k]


@dataclass(frozen=True)
class Match:
    """The commune a resident's words name (None: no single one), the candidates when several fit, the province
    when only a province was named (ask which commune of it), and the pre-7/2025 names it was reached through."""

    commune: Commune | None
    candidates: tuple[Commune, ...] = ()
    province: str = ""
    old_names: tuple[str, ...] = ()

    @property
    def ambiguous(self) -> bool:
        return self.commune is None and len(self.candidates) > 1


@dataclass(frozen=True)
class Directory:
    """The defaults, the topic hotlines, the default notification target and the communes."""

    defaults: Contacts
    notify: Target
    communes: tuple[Commune, ...] = field(default_factory=tuple)

    @classmethod
    def load(cls, path: Path) -> Directory:
        """Read the contacts file. A missing file gives generic defaults; a malformed one raises ValueError."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            data = {}
        except yaml.YAMLError as err:
            raise ValueError(f"{path}: không đọc được YAML: {err}") from None
        return cls.parse(data)

    @classmethod
    def parse(cls, data: Any) -> Directory:
        if not isinstance(data, Mapping):
            raise ValueError("tệp danh bạ phải là một bảng khóa: giá trị")
        hotlines = {str(k): str(v) for k, v in (data.get("hotlines") or {}).items()}
        defaults = Contacts(
            commune=str(data.get("commune") or DEFAULT_PLACE),
            people=_people(data.get("people")),
            office_hours=str(data.get("office_hours") or ""),
            hotlines=hotlines,
        )
        communes = []
        for i, item in enumerate(data.get("communes") or []):
            if not isinstance(item, Mapping) or not str(item.get("name") or "").strip():
                raise ValueError(f"communes[{i}]: thiếu tên xã/phường (name)")
            name = str(item["name"]).strip()
            contacts = Contacts(
                commune=name,
                people=_people(item.get("people")) or defaults.people,
                office_hours=str(item.get("office_hours") or defaults.office_hours),
                hotlines=hotlines,
            )
            aliases = item.get("aliases") or []
            communes.append(Commune(
                name=name,
                province=str(item.get("province") or "").strip(),
                aliases=tuple(str(a) for a in (aliases if isinstance(aliases, list) else [aliases])),
                contacts=contacts,
                notify=Target.parse(item.get("notify")),
                example=bool(item.get("example")),
            ))
        return cls(defaults, Target.parse(data.get("notify")), tuple(communes))

    def by_label(self, label: str | None) -> Commune | None:
        """The commune stored in a slot or ticket: a listed one, or any commune of the current map (with the default
        contacts and notification target); None for UNKNOWN or a label that is no commune."""
        if not label:
            return None
        listed = next((c for c in self.communes if c.label == label), None)
        if listed is not None or label == UNKNOWN:
            return listed
        found = places.resolve(label).commune
        return self.from_map(found) if found is not None and found.label == label else None

    def from_map(self, place: places.Commune) -> Commune:
        """The directory's commune for a commune of the map: the listed one when it is listed, else the defaults
        under the commune's own name (every commune is recognised; only listed ones have their own team)."""
        key = plain_words(place.label)
        listed = next((c for c in self.communes if plain_words(c.label) == key), None)
        if listed is not None:
            return listed
        return Commune(name=place.name, province=place.province.name, aliases=(),
                       contacts=replace(self.defaults, commune=place.name), notify=Target())

    def contacts_for(self, label: str | None) -> Contacts:
        commune = self.by_label(label)
        return commune.contacts if commune else self.defaults

    def target_for(self, label: str | None) -> Target:
        """The commune's notification target, or the default one."""
        commune = self.by_label(label)
        return commune.notify if commune and commune.notify else self.notify

    def match(self, text: str) -> Match:
        """The commune a resident named: a listed commune by its name or aliases first, else any commune of the
        current map, old (pre-7/2025) addresses included (bot/places). Several candidates, or only a province, come
        back for the caller to ask again."""
        listed = self.match_listed(text)
        if listed.commune is not None:
            return listed
        found = places.resolve(text)
        if found.commune is not None:
            return Match(self.from_map(found.commune), old_names=found.old_names)
        if listed.ambiguous or found.ambiguous:  # listed communes first: they have a team of their own
            candidates = list(listed.candidates)
            candidates += [c for c in map(self.from_map, found.communes) if c not in candidates]
            return Match(None, tuple(candidates), old_names=found.old_names)
        return Match(None, province=found.province.name if found.province else "")

    def match_listed(self, text: str) -> Match:
        """A listed commune the resident named. The longest matching name wins; when several communes share it (a
        common name in several provinces), the province words decide; otherwise the candidates are returned."""
        said = f" {plain_words(text)} "
        hits: dict[int, int] = {}  # commune index -> longest key found
        for i, commune in enumerate(self.communes):
            for key in commune.keys():  # noqa: SIM118 - Commune.keys() is its own method, not a mapping
                if f" {key} " in said:
                    hits[i] = max(hits.get(i, 0), len(key))
        if not hits:
            return Match(None)
        best = max(hits.values())
        found = [self.communes[i] for i, n in hits.items() if n == best]
        if len(found) > 1:
            in_province = [c for c in found if c.province and _names_province(said, c.province)]
            found = in_province or found
        return Match(found[0]) if len(found) == 1 else Match(None, tuple(found))


def plain_words(text: str) -> str:
    """Lower case, no diacritics, words separated by single spaces ("Phường Hoàn-Kiếm!" -> "phuong hoan kiem")."""
    return " ".join(re.findall(r"[a-z0-9]+", deaccent(str(text or "")).lower()))


def strip_type(words: str) -> str:
    """The name without its type word ("phuong hoan kiem" -> "hoan kiem")."""
    for word in TYPE_WORDS:
        if words.startswith(word + " "):
            return words[len(word) + 1:]
    return words


def _names_province(said: str, province: str) -> bool:
    plain = plain_words(province)
    for prefix in ("thanh pho ", "tinh "):
        plain = plain[len(prefix):] if plain.startswith(prefix) else plain
    return f" {plain} " in said


def _people(value: Any) -> list[dict]:
    return [dict(p) for p in (value or []) if isinstance(p, Mapping) and p.get("name")]


def problems(directory: Directory) -> list[str]:
    """What an operator should fix in the directory (Vietnamese), e.g. two communes that no one could tell apart."""
    out = []
    seen: dict[str, str] = {}
    for commune in directory.communes:
        if commune.label in seen:
            out.append(f"“{commune.label}” xuất hiện hai lần")
        seen[commune.label] = commune.label
        if not commune.province:
            out.append(f"“{commune.name}”: thiếu tỉnh/thành phố (province)")
        names = (plain_words(a) for a in commune.aliases)
        if plain_words(commune.province).startswith("huyen") or any(n.startswith("huyen ") for n in names):
            out.append(f"“{commune.name}”: từ 1/7/2025 không còn cấp huyện; chỉ ghi xã/phường và tỉnh/thành phố")
        if not commune.notify and not directory.notify:
            out.append(f"“{commune.name}”: chưa có nơi nhận thông báo (notify: telegram_chat hoặc zalo_users)")
    return out


def main(argv: list[str] | None = None) -> int:
    """`python -m bot.handoff.directory [contacts.yml]`: list the communes and what to fix; exit 2 if the file is
    unusable."""
    import sys

    from bot.core.settings import Settings

    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else Settings.from_env().contacts_file
    try:
        directory = Directory.load(path)
    except ValueError as err:
        print(f"Lỗi: {err}", file=sys.stderr)
        return 2
    print(f"{path}: {len(directory.communes)} xã/phường")
    for commune in directory.communes:
        where = [w for w, on in (("Telegram", commune.notify.telegram_chat), ("Zalo", commune.notify.zalo_users)) if on]
        print(f"- {commune.label}{' (VÍ DỤ)' if commune.example else ''}: thông báo qua "
              f"{', '.join(where) or 'nơi mặc định'}")
    for problem in problems(directory):
        print(f"Cần sửa: {problem}")
    if any(c.example for c in directory.communes):
        print("Lưu ý: còn xã/phường ví dụ (example: true); thay bằng xã/phường của bạn trước khi dùng thật.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

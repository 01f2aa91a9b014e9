"""The commune directory behind the handoff: who helps residents of each commune, when, and where new tickets are
announced.

Since 1/7/2025 local government has two tiers: province (tỉnh/thành phố) and commune (xã, phường, đặc khu); there
is no district any more. So a commune is a name and its province. Two sources:
- `contacts.yml`: the defaults (the contacts for a resident whose commune is unknown or has no team) and the topic
  hotlines at its top level; `communes:` may list communes by name (a seed, or a deployment without the admin page);
- the admin page's team contacts ("Liên hệ theo xã/phường", in the store; `with_teams`): a commune's own, or a
  province's fallback for every commune of it without one.
A commune's contact resolves field by field (bot/handoff/teams.cascade): its own team (the admin page's, then the
file's), else its province's fallback, else the defaults; the ticket notice goes to the target found that way.

Residents type their commune any way they like ("phuong hoan kiem", "Hoàn Kiếm Hà Nội", an old address "xã Yên
Thường, huyện Gia Lâm"): every commune of the current map is recognised (bot/places), old district-based addresses
converted; matching ignores diacritics, case, the type word and punctuation.

Pure: no I/O except `Directory.load`, which reads the file on every call so edits apply without a restart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from bot import places
from bot.core.text import deaccent
from bot.handoff.teams import (
    COMMUNE,
    FROM_COMMUNE,
    FROM_DEFAULT,
    FROM_PROVINCE,
    PROVINCE,
    Target,
    Team,
    cascade,
    people_of,
)

__all__ = ["UNKNOWN", "Commune", "Contacts", "Directory", "Listed", "Match", "Target", "plain_words", "problems"]

UNKNOWN = "không rõ"  # the slot value once asked: the resident's commune is unknown or not in the directory
DEFAULT_PLACE = "xã/phường nơi bạn cư trú"
TYPE_WORDS = ("xa", "phuong", "dac khu", "thi tran")  # thị trấn: older names residents still use


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
    """A commune a resident can be routed to, its contact resolved: its own team's (the admin page's mapping, else
    contacts.yml's entry), else its province's fallback, else the defaults, field by field (teams.cascade)."""

    name: str  # "Phường Hoàn Kiếm"
    province: str  # "Thành phố Hà Nội"
    aliases: tuple[str, ...]
    contacts: Contacts
    notify: Target
    notify_from: str = FROM_DEFAULT  # which level the notification target came from (teams.FROM_*; "" when none)

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
class Listed:
    """A commune contacts.yml lists, as written there: its name, province, other names, and its own contact."""

    name: str
    province: str
    aliases: tuple[str, ...]
    team: Team

    @property
    def label(self) -> str:
        return f"{self.name}, {self.province}" if self.province else self.name


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
    """The defaults, the topic hotlines and the default notification target (contacts.yml's top level), the communes
    the file lists, and the team contacts mapped on the admin page (`teams`, from the store: communes and provinces)."""

    defaults: Contacts
    notify: Target
    listed: tuple[Listed, ...] = field(default_factory=tuple)
    teams: tuple[Team, ...] = field(default_factory=tuple)

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
            people=[{"name": n, "how": h} for n, h in people_of(data.get("people"))],
            office_hours=str(data.get("office_hours") or ""),
            hotlines=hotlines,
        )
        listed = []
        for i, item in enumerate(data.get("communes") or []):
            if not isinstance(item, Mapping) or not str(item.get("name") or "").strip():
                raise ValueError(f"communes[{i}]: thiếu tên xã/phường (name)")
            name, province = str(item["name"]).strip(), str(item.get("province") or "").strip()
            aliases = item.get("aliases") or []
            team = Team(COMMUNE, f"{name}, {province}" if province else name, 0, people_of(item.get("people")),
                        str(item.get("office_hours") or "").strip(), Target.parse(item.get("notify")))
            listed.append(Listed(name, province, tuple(str(a) for a in (aliases if isinstance(aliases, list)
                                                                         else [aliases])), team))
        return cls(defaults, Target.parse(data.get("notify")), tuple(listed))

    def with_teams(self, teams: Iterable[Team]) -> Directory:
        """This directory with the admin page's team contacts (they come before the file's own communes)."""
        return replace(self, teams=tuple(teams))

    @cached_property
    def _teams(self) -> dict[tuple[str, str], Team]:
        return {(t.kind, plain_words(t.label)): t for t in self.teams}

    def team(self, kind: str, label: str) -> Team | None:
        """The admin page's contact for a commune label or a province name, if one is mapped."""
        return self._teams.get((kind, plain_words(label)))

    @property
    def communes(self) -> tuple[Commune, ...]:
        """The communes contacts.yml lists, resolved."""
        return tuple(self._resolve(c.name, c.province, c) for c in self.listed)

    @property
    def served(self) -> tuple[Commune, ...]:
        """Every commune with a team of its own: the admin page's, then the file's others (the commune question's
        buttons when they are few)."""
        table = places.gazetteer()
        mapped = [table.communes.get(t.code) for t in self.teams if t.kind == COMMUNE]
        out = {plain_words(c.label): self.from_map(c) for c in mapped if c is not None}
        for commune in self.communes:
            out.setdefault(plain_words(commune.label), commune)
        return tuple(out.values())

    def served_if_few(self, limit: int) -> tuple[Commune, ...]:
        """`served` when at most `limit` communes have a team, else () (without resolving thousands of them)."""
        if len(self.listed) + sum(t.kind == COMMUNE for t in self.teams) > 2 * limit:  # each is listed at most twice
            return ()
        served = self.served
        return served if len(served) <= limit else ()

    def _resolve(self, name: str, province: str, listed: Listed | None) -> Commune:
        label = f"{name}, {province}" if province else name
        levels = [(FROM_COMMUNE, self.team(COMMUNE, label)), (FROM_COMMUNE, listed.team if listed else None),
                  (FROM_PROVINCE, self.team(PROVINCE, province) if province else None)]
        default = Team(COMMUNE, "", 0, people_of(self.defaults.people), self.defaults.office_hours, self.notify)
        found = cascade(levels, default)
        contacts = replace(self.defaults, commune=name, people=[{"name": n, "how": h} for n, h in found.people],
                           office_hours=found.office_hours)
        return Commune(name, province, listed.aliases if listed else (), contacts, found.notify, found.notify_from)

    def has_own_team(self, label: str) -> bool:
        key = plain_words(label)
        return (COMMUNE, key) in self._teams or any(plain_words(c.label) == key for c in self.listed)

    def by_label(self, label: str | None) -> Commune | None:
        """The commune stored in a slot or ticket: a listed one, or any commune of the current map; None for UNKNOWN
        or a label that is no commune."""
        if not label or label == UNKNOWN:
            return None
        listed = next((c for c in self.listed if c.label == label), None)
        if listed is not None:
            return self._resolve(listed.name, listed.province, listed)
        found = places.resolve(label).commune
        return self.from_map(found) if found is not None and found.label == label else None

    def from_map(self, place: places.Commune) -> Commune:
        """The directory's commune for a commune of the map, its contact resolved (every commune is recognised;
        those without a team of their own or of their province get the defaults under their own name)."""
        key = plain_words(place.label)
        listed = next((c for c in self.listed if plain_words(c.label) == key), None)
        if listed is not None:
            return self._resolve(listed.name, listed.province, listed)
        return self._resolve(place.name, place.province.name, None)

    def contacts_for(self, label: str | None) -> Contacts:
        commune = self.by_label(label)
        return commune.contacts if commune else self.defaults

    def target_for(self, label: str | None) -> Target:
        """Where the commune's new tickets are announced: its team, else its province's, else the default."""
        commune = self.by_label(label)
        return commune.notify if commune else self.notify

    def match(self, text: str) -> Match:
        """The commune a resident named: a listed commune by its name or aliases first, else any commune of the
        current map, old (pre-7/2025) addresses included (bot/places). Several candidates, or only a province, come
        back for the caller to ask again; communes with a team of their own are offered first."""
        listed = self.match_listed(text)
        if listed.commune is not None:
            return listed
        found = places.resolve(text)
        if found.commune is not None:
            return Match(self.from_map(found.commune), old_names=found.old_names)
        if listed.ambiguous or found.ambiguous:
            candidates = list(listed.candidates)
            own_first = sorted(found.communes, key=lambda c: not self.has_own_team(c.label))  # stable: best first
            candidates += [c for c in map(self.from_map, own_first) if c not in candidates]
            return Match(None, tuple(candidates), old_names=found.old_names)
        return Match(None, province=found.province.name if found.province else "")

    def match_listed(self, text: str) -> Match:
        """A commune contacts.yml lists, named by the resident. The longest matching name wins; when several communes
        share it (a common name in several provinces), the province words decide; otherwise the candidates are
        returned."""
        said = f" {plain_words(text)} "
        communes = self.communes
        hits: dict[int, int] = {}  # commune index -> longest key found
        for i, commune in enumerate(communes):
            for key in commune.keys():  # noqa: SIM118 - Commune.keys() is its own method, not a mapping
                if f" {key} " in said:
                    hits[i] = max(hits.get(i, 0), len(key))
        if not hits:
            return Match(None)
        best = max(hits.values())
        found = [communes[i] for i, n in hits.items() if n == best]
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
        if not commune.notify:
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
        print(f"- {commune.label}: thông báo tới {commune.notify.describe()} ({commune.notify_from or 'không có'})")
    for problem in problems(directory):
        print(f"Cần sửa: {problem}")
    print("Liên hệ theo xã/phường và liên hệ dự phòng của tỉnh đặt trên trang quản trị (mục “Liên hệ theo xã/phường”) "
          "được dùng trước các xã/phường ghi ở tệp này.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

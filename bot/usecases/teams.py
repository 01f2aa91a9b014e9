"""Team contacts per commune (and a province's fallback): what the admin page's "Liên hệ theo xã/phường" saves and
removes. The commune is picked by the name an admin types, read through bot/places like a resident's words, so only a
real commune (or province) of the current map is ever saved; an ambiguous name comes back as choices. The bot follows
a change at the next ticket: the action server reads the mappings when a resident reaches a person.

Audit lines: `team_set` (the commune label, or "Cả tỉnh: <province>"; new or changed, where notices go, how many
people) and `team_remove`. Errors: TeamRefused, nothing saved; its `problems` name the form's fields, its `choices`
the units an ambiguous name may be.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.handoff.teams import PROVINCE, Place, Team, pick_place, place_by_code, read_fields
from bot.store.teams import StoredTeam, TeamContacts
from bot.usecases.audit import AuditWriter


class TeamRefused(ValueError):
    """Nothing was saved: what is wrong, by form field ("place", "telegram_chat", "zalo_users", "people",
    "office_hours"), and the choices when the typed name fits several units."""

    def __init__(self, problems: dict[str, str], choices: tuple[Place, ...] = ()) -> None:
        super().__init__("; ".join(problems.values()) or "Hãy chọn một trong các xã/phường tìm thấy.")
        self.problems = problems
        self.choices = choices


@dataclass(frozen=True)
class Saved:
    team: Team
    new: bool
    old_names: tuple[str, ...] = field(default=())  # the pre-7/2025 units the typed name came through


@dataclass(frozen=True)
class TeamForm:
    """What the admin typed: the kind, the place (typed name, or the code of a choice or of the row edited), and the
    contact fields as typed."""

    kind: str
    place: str = ""
    code: int | None = None
    telegram_chat: str = ""
    zalo_users: str = ""
    people: str = ""
    office_hours: str = ""


def target_name(team: Team | StoredTeam) -> str:
    """How the audit log and the page name a mapping."""
    return f"Cả tỉnh: {team.label}" if team.kind == PROVINCE else team.label


def save_team(repo: TeamContacts, audit: AuditWriter, form: TeamForm, who: str) -> Saved:
    """Save the contact of the commune or province the form names (replacing its earlier one)."""
    problems: dict[str, str] = {}
    choices: tuple[Place, ...] = ()
    old_names: tuple[str, ...] = ()
    place = None
    if form.code is not None:
        place = place_by_code(form.kind, form.code)
        if place is None:
            problems["place"] = "Không có xã/phường hoặc tỉnh/thành phố này trong danh mục; hãy gõ lại tên."
    else:
        pick = pick_place(form.kind, form.place)
        place, choices, old_names = pick.place, pick.choices, pick.old_names
        if pick.problem:
            problems["place"] = pick.problem
    fields, field_problems = read_fields(form.telegram_chat, form.zalo_users, form.people, form.office_hours)
    problems.update(field_problems)
    if problems or place is None:
        raise TeamRefused(problems, choices)
    team = Team(place.kind, place.label, place.code, fields.people, fields.office_hours, fields.notify)
    new = repo.put(team.kind, team.code, team.label, team.data(), who)
    audit.log(who, "team_set", target_name(team), ("thêm mới" if new else "sửa") + "; " + describe(team))
    return Saved(team, new, old_names)


def remove_team(repo: TeamContacts, audit: AuditWriter, kind: str, code: int, who: str) -> StoredTeam:
    """Remove a mapping; its communes fall back to the province's contact, then the defaults."""
    removed = repo.remove(kind, code)
    if removed is None:
        raise TeamRefused({"place": "Không có liên hệ này (có thể người khác vừa xóa)."})
    audit.log(who, "team_remove", target_name(removed), "")
    return removed


def describe(team: Team) -> str:
    """The audit detail of a saved contact: where notices go and how many people are listed (not their numbers)."""
    parts = [f"thông báo tới {team.notify.describe()}", f"{len(team.people)} người liên hệ"]
    if team.office_hours:
        parts.append("có giờ làm việc")
    return "; ".join(parts)


def teams_of(rows: list[StoredTeam]) -> list[Team]:
    """The stored mappings as the directory uses them (bot/handoff/directory.Directory.with_teams)."""
    return [Team.from_data(r.kind, r.code, r.label, r.data) for r in rows]


def current_teams(repo: TeamContacts) -> list[Team]:
    return teams_of(repo.all())

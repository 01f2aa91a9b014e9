"""Team contacts per commune ("Liên hệ theo xã/phường"): which team hears of a commune's new tickets (a Telegram group,
Zalo users) and whom its residents are pointed to, and a province's fallback for its communes without one. The commune
is typed (with or without diacritics, old names too) and read through bot/places, so only real communes are saved; a
name several communes share offers them to pick. A check box shows where a resident's typed address would be routed.

Everyone signed in sees the page; publishers change it (it decides where residents' tickets go). Saving and removing
are bot/usecases/teams.py (store + audit line); contacts.yml stays the defaults, and its own communes are shown.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from bot.admin.web.auth import guarded
from bot.admin.web.base import Area, Call, redirect, render
from bot.handoff.directory import Directory
from bot.handoff.teams import COMMUNE, KINDS, Team, people_text, place_by_code
from bot.store.teams import TeamContacts
from bot.usecases.teams import TeamForm, TeamRefused, remove_team, save_team, target_name, teams_of

FORM_FIELDS = ("kind", "place", "code", "telegram_chat", "zalo_users", "people", "office_hours")
NOTICES = {"saved": "Đã lưu. Bot dùng liên hệ mới từ yêu cầu hỗ trợ tiếp theo.",
           "removed": "Đã xóa. Các xã/phường đó giờ dùng liên hệ dự phòng của tỉnh, hoặc liên hệ mặc định."}
MAX_CHECK = 200


def _repo(call: Call) -> TeamContacts:
    return TeamContacts(call.admin.store.engine)


def _file_directory(call: Call) -> tuple[Directory, str]:
    """contacts.yml's defaults and communes; a broken file is said on the page, never a crash."""
    try:
        return Directory.load(call.admin.settings.contacts_file), ""
    except ValueError as err:
        return Directory.parse({}), str(err)


def show(call: Call, code: int = 200, values: dict | None = None, errors: dict | None = None, choices=(),
         editing: bool = False) -> Response:
    rows = _repo(call).all()
    directory, file_problem = _file_directory(call)
    directory = directory.with_teams(teams_of(rows))
    check = call.request.query_params.get("check", "")[:MAX_CHECK] if call.request.method == "GET" else ""
    return render(call, "teams.html", code, rows=[_row(r) for r in rows], directory=directory,
                  file_problem=file_problem, contacts_file=call.admin.settings.contacts_file.name,
                  values=values or {"kind": COMMUNE}, errors={k: [v] for k, v in (errors or {}).items()},
                  choices=choices, editing=editing, can_edit=call.user.can("publish"), check=check,
                  checked=_check(directory, check) if check.strip() else None,
                  notice=NOTICES.get(call.request.query_params.get("done", "")))


def _row(stored) -> dict:
    team = Team.from_data(stored.kind, stored.code, stored.label, stored.data)
    return {"team": team, "name": target_name(team), "people": people_text(team), "by": stored.updated_by,
            "at": stored.updated_at}


def _check(directory: Directory, text: str) -> dict:
    """Where a resident who types `text` when asked for their commune would be routed."""
    match = directory.match(text)
    if match.commune is None:
        return {"commune": None, "candidates": [c.label for c in match.candidates], "province": match.province}
    return {"commune": match.commune, "old_names": match.old_names}


@guarded()
def teams_page(call: Call) -> Response:
    return show(call)


@guarded()
def edit_page(call: Call) -> Response:
    kind, code = _key(call)
    stored = _repo(call).get(kind, code) if kind else None
    if stored is None:
        return render(call, "error.html", 404, title="Không có liên hệ này", message="Hãy mở lại trang Liên hệ.")
    team = Team.from_data(stored.kind, stored.code, stored.label, stored.data)
    values = {"kind": kind, "place": team.label, "code": str(code), "telegram_chat": team.notify.telegram_chat,
              "zalo_users": "\n".join(team.notify.zalo_users), "people": people_text(team),
              "office_hours": team.office_hours}
    return show(call, values=values, editing=True)


@guarded(permission="publish")
def save(call: Call) -> Response:
    values = {name: call.field(name) for name in FORM_FIELDS}
    code = values["code"].strip()
    form = TeamForm(kind=values["kind"], place=values["place"], code=int(code) if code.isdigit() and len(code) < 10
                    else None, telegram_chat=values["telegram_chat"], zalo_users=values["zalo_users"],
                    people=values["people"], office_hours=values["office_hours"])
    editing = bool(call.field("editing"))
    try:
        save_team(_repo(call), call.admin.accounts, form, call.user.username)
    except TeamRefused as err:
        chosen = place_by_code(form.kind, form.code) if form.code is not None else None
        if chosen is not None:  # the unit picked (or edited) stays picked; the admin fixes the other fields
            values["place"] = chosen.label
        return show(call, 400, values=values, errors=err.problems, choices=err.choices, editing=editing)
    return redirect("/communes?done=saved")


@guarded(permission="publish")
def remove(call: Call) -> Response:
    kind, code = _key(call)
    try:
        if not kind:
            raise TeamRefused({"place": "Không có liên hệ này."})
        remove_team(_repo(call), call.admin.accounts, kind, code, call.user.username)
    except TeamRefused as err:
        return render(call, "error.html", 404, title="Không có liên hệ này", message=str(err))
    return redirect("/communes?done=removed")


def _key(call: Call) -> tuple[str, int]:
    """The (kind, code) of the path; kind "" when the path names none."""
    kind, code = call.request.path_params["kind"], call.request.path_params["code"]
    if kind not in KINDS or not code.isdigit() or len(code) > 9:
        return "", 0
    return kind, int(code)


AREA = Area("teams", [
    Route("/communes", teams_page, methods=["GET"]),
    Route("/communes", save, methods=["POST"]),
    Route("/communes/{kind}/{code}", edit_page, methods=["GET"]),
    Route("/communes/{kind}/{code}/remove", remove, methods=["POST"]),
], label="Liên hệ theo xã/phường", path="/communes")

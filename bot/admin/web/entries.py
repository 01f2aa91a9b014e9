"""Entries: list and search, create, edit, retire, preview as a resident sees it, try a question against
the draft, history with readable differences, and restoring an old revision.

Every save names the revision the form was opened at; when someone else saved in between, the admin
sees the other version and keeps their own text in the form (nothing typed is lost).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.responses import Response
from starlette.routing import Route

from bot.admin.web.auth import guarded
from bot.admin.web.base import Area, Call, redirect, render
from bot.admin.web.diffs import diff, readable
from bot.admin.web.forms import FIELDS, entry_to_form, form_to_raw, problems_by_field
from bot.admin.web.trial import DraftTrial
from bot.core.localtime import utcnow
from bot.knowledge.loader import Problem, advice
from bot.knowledge.model import TOPICS, Entry
from bot.knowledge.staleness import due_for_review
from bot.replies.answers import answer_entry
from bot.search.decide import Thresholds
from bot.store.knowledge import ACTIVE, RETIRED, Conflict, NotFound, StoredEntry, ValidationFailed, validate

NOTICES = {
    "created": "Đã thêm mục mới. Mục sẽ được bot dùng sau khi xuất bản.",
    "saved": "Đã lưu. Thay đổi sẽ được bot dùng sau khi xuất bản.",
    "retired": "Đã ngừng dùng mục này. Bot sẽ thôi trả lời bằng mục này sau khi xuất bản.",
    "reactivated": "Đã dùng lại mục này. Bot sẽ trả lời bằng mục này sau khi xuất bản.",
    "restored": "Đã khôi phục bản cũ (lưu thành một bản mới). Hãy xuất bản để bot dùng.",
    "conflict": "Mục vừa được người khác sửa nên thao tác chưa được thực hiện. Hãy xem bản mới nhất rồi làm lại.",
}
STATUS_NAMES = {ACTIVE: "Đang dùng", RETIRED: "Ngừng dùng"}


def not_found(call: Call, entry_id: str) -> Response:
    return render(call, "error.html", 404, title="Không tìm thấy mục",
                  message=f"Không có mục với mã “{entry_id}”. Có thể mục đã bị đổi mã; hãy tìm trong danh sách.")


@guarded()
def entry_list(call: Call) -> Response:
    """All entries, filtered by topic, status and words."""
    params = call.request.query_params
    topic = params.get("topic") if params.get("topic") in TOPICS else ""
    status = params.get("status") if params.get("status") in STATUS_NAMES else ""
    text = (params.get("q") or "").strip()[:200]
    found = call.admin.store.list(topic=topic or None, text=text or None, status=status or None)
    due = {d.entry.id: d.reason for d in due_for_review((s.entry for s in found if s.status == "active"),
                                                        utcnow().date())}
    if params.get("due"):
        found = [s for s in found if s.id in due]
    return render(call, "entries_list.html", entries=found, topic=topic, status=status, q=text,
                  statuses=STATUS_NAMES, due=due, only_due=bool(params.get("due")))


def form_values(call: Call) -> dict[str, str]:
    values = {name: call.field(name) for name in FIELDS}
    values["topic"] = call.field("topic")
    return values


def blank_values() -> dict[str, str]:
    values = {name: "" for name in FIELDS}
    values.update(topic="", checked=utcnow().date().isoformat())
    return values


def show_form(call: Call, values: dict[str, str], stored: StoredEntry | None = None, code: int = 200,
              problems: Sequence[Problem] = (), **context) -> Response:
    """The entry form with the admin's values, problems next to their fields, and any preview or trial."""
    warnings = context.pop("warnings", None)
    if warnings is None and stored is not None and not problems:
        warnings = advice(stored.entry)
    return render(
        call, "entry_form.html", code,
        values=values, stored=stored, errors=problems_by_field(list(problems)),
        warnings=problems_by_field(list(warnings or [])),
        base_revision=context.pop("base_revision", stored.revision if stored else ""),
        statuses=STATUS_NAMES, **context,
    )


def check(raw: dict, form_problems: list[Problem]) -> Entry:
    """The draft as an entry, or ValidationFailed with every problem: the form's own and the rules'."""
    try:
        entry = validate(raw)
    except ValidationFailed as err:
        raise ValidationFailed([*form_problems, *err.problems]) from None
    if form_problems:
        raise ValidationFailed(form_problems)
    return entry


def _active_by_id(call: Call) -> dict[str, Entry]:
    return {e.id: e for e in call.admin.store.active_entries()}


def _trial(call: Call) -> DraftTrial:
    admin = call.admin
    return admin.service("trial", lambda: DraftTrial(admin.embedder, admin.settings.cache_dir / "embeddings.sqlite",
                                                     Thresholds.load(admin.settings.calibration_file)))


def draft_action(call: Call, values: dict[str, str], raw: dict, form_problems: list[Problem],
                 stored: StoredEntry | None) -> Response:
    """Preview the draft as a resident would see it, or try a question against it (nothing is saved)."""
    action = call.field("action")
    question = call.field("test_question").strip()[:300]
    common = dict(resolves=call.field("resolves"), test_question=question,
                  base_revision=call.field("base_revision"))
    try:
        draft = check(raw, form_problems)
    except ValidationFailed as err:
        return show_form(call, values, stored, 422, err.problems, draft_note="Bản nháp còn lỗi nên chưa xem trước "
                         "hoặc thử được. Sửa các ô được đánh dấu rồi bấm lại.", **common)
    by_id = _active_by_id(call)
    by_id[draft.id] = draft
    reply = answer_entry(draft, by_id)
    preview = {"text": reply.text, "buttons": [b["title"] for b in reply.buttons]}
    trial = None
    problems: list[Problem] = []
    if action == "test":
        if question:
            trial = _trial(call).ask(question, [e for e in by_id.values() if e.id != draft.id], draft)
        else:
            problems = [Problem("test_question", "nhập một câu hỏi như người dân sẽ hỏi, rồi bấm “Thử câu hỏi”")]
    return show_form(call, values, stored, 200, problems, warnings=advice(draft), preview=preview, trial=trial,
                     **common)


def _resolves(call: Call) -> list[int]:
    return [int(part) for part in call.field("resolves").split(",") if part.strip().isdigit()][:1000]


@guarded()
def new_entry(call: Call) -> Response:
    """The empty form (a new entry)."""
    values = blank_values()
    if call.request.query_params.get("topic") in TOPICS:
        values["topic"] = call.request.query_params["topic"]
    return show_form(call, values)


@guarded()
def create_entry(call: Call) -> Response:
    values = form_values(call)
    raw, form_problems = form_to_raw(values)
    if call.field("action") in ("preview", "test"):
        return draft_action(call, values, raw, form_problems, None)
    common = dict(resolves=call.field("resolves"), test_question=call.field("test_question"))
    try:
        check(raw, form_problems)
        stored = call.entries.create(raw, call.field("comment").strip()[:500], _resolves(call))
    except ValidationFailed as err:
        return show_form(call, values, None, 422, err.problems, **common)
    except Conflict:
        return show_form(call, values, None, 409, [Problem("id", f"đã có mục với mã “{raw['id']}”: đặt mã khác, hoặc "
                                                           "mở mục đó để sửa")], **common)
    return redirect(f"/entries/{stored.id}?msg=created")


@guarded()
def edit_entry(call: Call) -> Response:
    entry_id = call.request.path_params["entry_id"]
    stored = call.admin.store.get(entry_id)
    if stored is None:
        return not_found(call, entry_id)
    notice = NOTICES.get(call.request.query_params.get("msg", ""))
    return show_form(call, entry_to_form(stored.entry), stored, notice=notice)


def _base_revision(call: Call) -> int | None:
    try:
        return int(call.field("base_revision"))
    except ValueError:
        return None


@guarded()
def save_entry(call: Call) -> Response:
    entry_id = call.request.path_params["entry_id"]
    stored = call.admin.store.get(entry_id)
    if stored is None:
        return not_found(call, entry_id)
    values = form_values(call)
    values["id"] = entry_id  # the id names the entry; renaming would be a different entry
    raw, form_problems = form_to_raw(values)
    if call.field("action") in ("preview", "test"):
        return draft_action(call, values, raw, form_problems, stored)
    base = _base_revision(call)
    if base is None:
        return render(call, "error.html", 400, title="Không đọc được biểu mẫu",
                      message="Biểu mẫu thiếu số bản đang sửa. Vui lòng mở lại mục rồi sửa.")
    try:
        check(raw, form_problems)
        saved = call.entries.edit(raw, base, call.field("comment").strip()[:500])
    except ValidationFailed as err:
        return show_form(call, values, stored, 422, err.problems, base_revision=base,
                         test_question=call.field("test_question"))
    except Conflict:
        return conflict_form(call, values, base)
    return redirect(f"/entries/{saved.id}?msg=saved")


def conflict_form(call: Call, mine: dict[str, str], base: int) -> Response:
    """Someone saved since this form was opened: show their version and what differs, keep the admin's
    text, and let the next save (now based on their revision) go through knowingly."""
    theirs = call.admin.store.get(mine["id"])
    if theirs is None:  # entries are retired, never deleted: only a store emptied meanwhile gets here
        return not_found(call, mine["id"])
    mine_raw, _ = form_to_raw(mine)
    conflict = {
        "revision": theirs.revision, "author": theirs.updated_by, "at": theirs.updated_at, "base": base,
        "text": answer_entry(theirs.entry, {}).text, "status": theirs.status,
        "diff": diff(readable(theirs.entry.to_dict()), readable(mine_raw)),
    }
    return show_form(call, mine, theirs, 409, warnings=[], conflict=conflict, base_revision=theirs.revision,
                     test_question=call.field("test_question"))


@guarded()
def retire_entry(call: Call) -> Response:
    entry_id = call.request.path_params["entry_id"]
    base = _base_revision(call)
    try:
        call.entries.retire(entry_id, base if base is not None else -1, call.field("comment").strip()[:500])
    except NotFound:
        return not_found(call, entry_id)
    except Conflict:
        return redirect(f"/entries/{entry_id}?msg=conflict")
    return redirect(f"/entries/{entry_id}?msg=retired")


@guarded()
def reactivate_entry(call: Call) -> Response:
    """Serve a retired entry again: its last active revision becomes the newest."""
    entry_id = call.request.path_params["entry_id"]
    try:
        call.entries.reactivate(entry_id, _base_revision(call))
    except NotFound:
        return not_found(call, entry_id)
    except Conflict:
        return redirect(f"/entries/{entry_id}?msg=conflict")
    return redirect(f"/entries/{entry_id}?msg=reactivated")


@guarded()
def entry_history(call: Call) -> Response:
    """Every revision, newest first, each with what changed from the one before."""
    entry_id = call.request.path_params["entry_id"]
    stored = call.admin.store.get(entry_id)
    if stored is None:
        return not_found(call, entry_id)
    revisions = call.admin.store.history(entry_id)
    rows = []
    for i, rev in enumerate(revisions):
        older = revisions[i + 1] if i + 1 < len(revisions) else None
        before = readable(older.data, older.status) if older else []
        rows.append({"rev": rev, "diff": diff(before, readable(rev.data, rev.status)), "first": older is None})
    return render(call, "history.html", stored=stored, rows=rows)


@guarded()
def restore_revision(call: Call) -> Response:
    entry_id = call.request.path_params["entry_id"]
    number = call.request.path_params["number"]
    try:
        call.entries.restore(entry_id, number, _base_revision(call))
    except NotFound:
        return not_found(call, entry_id)
    except Conflict:
        return redirect(f"/entries/{entry_id}?msg=conflict")
    return redirect(f"/entries/{entry_id}?msg=restored")


AREA = Area("entries", [
    Route("/entries", entry_list, methods=["GET"]),
    Route("/entries/new", new_entry, methods=["GET"]),
    Route("/entries/new", create_entry, methods=["POST"]),
    Route("/entries/{entry_id}", edit_entry, methods=["GET"]),
    Route("/entries/{entry_id}", save_entry, methods=["POST"]),
    Route("/entries/{entry_id}/retire", retire_entry, methods=["POST"]),
    Route("/entries/{entry_id}/reactivate", reactivate_entry, methods=["POST"]),
    Route("/entries/{entry_id}/history", entry_history, methods=["GET"]),
    Route("/entries/{entry_id}/restore/{number:int}", restore_revision, methods=["POST"]),
], label="Mục hỏi đáp", path="/entries")

"""The knowledge store on SQLite and on the real PostgreSQL: revisions, conflicts, rollback, releases,
accounts, the question log, and a faithful export/import round trip."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot.core.settings import ROOT
from bot.knowledge.export import export_entries
from bot.knowledge.loader import load_entries
from bot.store import schema
from bot.store.accounts import Accounts
from bot.store.knowledge import Conflict, KnowledgeStore, NotFound, ValidationFailed
from bot.store.question_log import Events

RAW = {
    "id": "vneid-doi-anh",
    "title": "Đổi ảnh trên VNeID",
    "questions": ["đổi ảnh vneid", "doi anh vneid", "thay ảnh căn cước điện tử", "cap nhat anh vneid"],
    "answer": "Ảnh lấy từ dữ liệu căn cước; muốn đổi ảnh, bạn làm thủ tục tại Công an xã/phường.",
    "source": "https://vneid.gov.vn/",
    "checked": "2026-11-20",
}


@pytest.fixture
def store(store_url) -> KnowledgeStore:
    return KnowledgeStore.open(store_url)


def test_create_edit_history_and_restore(store):
    first = store.create(RAW, "an")
    assert (first.revision, first.status) == (1, "active")
    second = store.edit({**RAW, "answer": "Bản sửa."}, "binh", base_revision=1, comment="sửa câu trả lời")
    assert second.revision == 2 and store.get("vneid-doi-anh").entry.answer == "Bản sửa."
    history = store.history("vneid-doi-anh")
    assert [(r.number, r.author, r.action) for r in history] == [(2, "binh", "edit"), (1, "an", "create")]
    restored = store.restore("vneid-doi-anh", 1, "an")
    assert restored.revision == 3 and store.get("vneid-doi-anh").entry.answer == RAW["answer"]
    assert store.history("vneid-doi-anh")[0].comment == "khôi phục bản 1"


def test_validation_names_the_field_and_saves_nothing(store):
    with pytest.raises(ValidationFailed) as err:
        store.create({**RAW, "source": "vneid", "checked": "20/11"}, "an")
    assert {p.field for p in err.value.problems} == {"source", "checked"}
    assert store.get("vneid-doi-anh") is None
    with pytest.raises(ValidationFailed) as err:
        store.create({**RAW, "id": "khac-doi-anh"}, "an")
    assert err.value.problems[0].field == "id"
    with pytest.raises(ValidationFailed) as err:
        store.create({**RAW, "related": ["vneid-khong-co"]}, "an")
    assert err.value.problems[0].field == "related"


def test_two_editors_of_the_same_revision_do_not_overwrite_each_other(store):
    store.create(RAW, "an")
    results: list[object] = []

    def save(who: str) -> None:
        try:
            results.append(store.edit({**RAW, "answer": f"Bản của {who}."}, who, base_revision=1))
        except Conflict as err:
            results.append(err)

    threads = [threading.Thread(target=save, args=(w,)) for w in ("an", "binh")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(conflicts) == 1 and conflicts[0].current == 2
    assert len(store.history("vneid-doi-anh")) == 2  # one edit landed, none lost silently
    with pytest.raises(Conflict):
        store.create(RAW, "an")  # the id is taken


def test_retire_and_release_rollback(store):
    store.create(RAW, "an")
    first = store.start_release("an")
    store.finish_release(first.id, True, index_name="abc")
    store.edit({**RAW, "answer": "Sửa sau khi xuất bản."}, "an", base_revision=1)
    store.create({**RAW, "id": "vneid-them", "title": "Mục thêm"}, "an")
    report = store.rollback_to_release(first.id, "binh")
    assert report == {"restored": ["vneid-doi-anh"], "retired": ["vneid-them"]}
    assert store.get("vneid-doi-anh").entry.answer == RAW["answer"]
    assert [s.id for s in store.list(status="active")] == ["vneid-doi-anh"]
    assert store.release_entries(first)[0].answer == RAW["answer"]
    assert store.live_release().id == first.id
    retired = store.retire("vneid-doi-anh", "an", base_revision=store.get("vneid-doi-anh").revision)
    assert retired.status == "retired" and store.active_entries() == []
    with pytest.raises(NotFound):
        store.restore("vneid-doi-anh", 99, "an")


def test_seed_export_then_import_changes_nothing(store, tmp_path):
    seed = load_entries(ROOT / "knowledge")
    assert len(store.import_entries(seed, "seed", action="seed")["created"]) == len(seed)
    export_entries(store.active_entries(), tmp_path / "out")
    report = store.import_entries(load_entries(tmp_path / "out"), "someone")
    assert report["unchanged"] == sorted(e.id for e in seed) and not report["updated"] and not report["created"]


def test_the_apps_error_messages_survive_the_store_and_export(store, tmp_path):
    entry = replace(load_entries(ROOT / "knowledge")[0], related=(), errors=("Mã OTP không đúng", "Lỗi hệ thống"))
    store.import_entries([entry], "seed", action="seed")
    assert store.get(entry.id).entry.errors == entry.errors
    export_entries(store.active_entries(), tmp_path / "out")
    assert load_entries(tmp_path / "out")[0].errors == entry.errors


def test_seed_sync_keeps_what_an_admin_edited(store):
    seed = [replace(e, related=()) for e in load_entries(ROOT / "knowledge")[:3]]
    store.import_entries(seed, "seed", action="seed")
    edited = seed[0]
    store.edit({**edited.to_dict(), "answer": "Admin sửa."}, "admin", base_revision=1)
    changed = [replace(e, note="Ghi chú mới.") for e in seed]
    report = store.import_entries(changed, "seed", action="seed", keep_edited=True)
    assert report["kept"] == [edited.id] and len(report["updated"]) == 2
    assert store.get(edited.id).entry.answer == "Admin sửa."


def test_import_is_all_or_nothing(store):
    seed = [replace(e, related=()) for e in load_entries(ROOT / "knowledge")[:2]]
    broken = replace(seed[1], related=("vneid-khong-co",))
    with pytest.raises(ValidationFailed):
        store.import_entries([seed[0], broken], "an")
    assert store.count() == 0


def test_accounts_sessions_and_audit(store):
    accounts = Accounts(store.engine)
    accounts.add_user("can-bo", "mat-khau-du-dai", "editor")
    with pytest.raises(ValueError):
        accounts.add_user("x", "ngan", "editor")
    assert accounts.authenticate("can-bo", "sai-mat-khau") is None
    assert accounts.authenticate("khong-co", "mat-khau-du-dai") is None
    user = accounts.authenticate("can-bo", "mat-khau-du-dai")
    assert user and user.can("edit") and not user.can("publish")
    token, session = accounts.start_session(user)
    assert accounts.session(token).csrf == session.csrf
    assert accounts.session("forged") is None
    expired, _ = accounts.start_session(user, hours=-1)
    assert accounts.session(expired) is None
    accounts.end_session(token)
    assert accounts.session(token) is None
    accounts.log("can-bo", "edit", "vneid-doi-anh", "sửa")
    assert accounts.audit_log()[0].target == "vneid-doi-anh"


def test_question_log_keeps_masked_text_only_when_unsure(store):
    events = Events(store.engine)
    events.record_question("answered", "quên mật khẩu 0912345678", "vneid-quen-mat-khau", "vneid", 0.97)
    events.record_question("declined", "số căn cước 012345678912 của tôi bị sai", confidence=0.5)
    rows = events.questions()
    assert rows[0].text is None and "012345678912" not in rows[1].text and "[số định danh]" in rows[1].text
    (unanswered,) = events.unanswered()
    events.mark_resolved([unanswered.id], "vneid-sai-thong-tin")
    assert events.unanswered() == []
    events.record_feedback("vneid-quen-mat-khau", False)
    assert events.feedback()[0].helpful is False


# --- a locked or slow database costs seconds, never minutes (issue 9, item 7) ---------------------------------

@contextlib.contextmanager
def write_lock_held(url: str, release_after_s: float = 6.0):
    """Another connection holds the write lock on the question log; released after `release_after_s` at the latest,
    so that a client without a timeout fails the test instead of hanging it."""
    if url.startswith("sqlite:///"):
        holder = sqlite3.connect(url[len("sqlite:///"):], isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN EXCLUSIVE")
    else:
        import psycopg

        holder = psycopg.connect(url)
        holder.execute("LOCK TABLE question_log IN ACCESS EXCLUSIVE MODE")
    timer = threading.Timer(release_after_s, holder.rollback)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        holder.rollback()
        holder.close()


def test_a_held_write_lock_fails_a_write_in_seconds_without_quoting_it(store_url):
    events = Events.open(store_url)
    with write_lock_held(store_url):
        start = time.monotonic()
        with pytest.raises(OperationalError) as failure:
            events.record_question("declined", "zzqxv toi quen mat khau")
        took = time.monotonic() - start
    assert took < 3.0, f"waited {took:.1f} s for the lock"
    assert "zzqxv" not in str(failure.value)  # what a resident wrote never lands in an error message (or a log)


def test_postgres_sessions_carry_statement_and_lock_timeouts(postgres_url):
    def setting(url: str, name: str) -> str:
        with schema.engine_for(url).connect() as conn:
            return conn.execute(text(f"SHOW {name}")).scalar()

    assert setting(postgres_url, "statement_timeout") == "5s" and setting(postgres_url, "lock_timeout") == "2s"
    own = postgres_url + "?options=-c%20statement_timeout%3D7000"  # an operator's value in the URL wins
    try:
        assert setting(own, "statement_timeout") == "7s"
    finally:
        schema._engines.pop(own).dispose()
